// Time-series charts with uPlot (served by this server from its own dependency). One chart per
// container: drawing again replaces the previous one, and charts follow their container's width.

const COLORS = ['#2563eb', '#16a34a', '#dc2626', '#9333ea', '#ea580c', '#0891b2'];
const charts = new WeakMap();

const utcDate = (seconds) => window.uPlot.tzDate(new Date(seconds * 1000), 'Etc/UTC');

/**
 * Draws `series` over `x` (epoch ms) in `container`, across `span` ([from, to) epoch ms: the range
 * picked, so a chart with one point still shows where in the range it lies).
 * series: [{ label, values, scale?, kind?: 'bars' | 'line', format?(value) }]
 * scales: { [name]: { range?: [min, max], format?(value), side?: 0 | 1, label? } }
 */
export function drawTimeChart(container, { x, span, series, scales = {} }) {
  const uPlot = window.uPlot;
  charts.get(container)?.destroy();
  container.replaceChildren();
  if (!uPlot) {
    container.textContent = 'charts need uPlot, which did not load';
    return;
  }
  const scaleNames = [...new Set(series.map((one) => one.scale ?? 'y'))];
  const options = {
    width: Math.max(280, container.clientWidth),
    height: 240,
    tzDate: utcDate,
    legend: { live: true },
    cursor: { drag: { x: false, y: false } },
    scales: Object.fromEntries([
      ['x', span ? { time: true, range: [span[0] / 1000, span[1] / 1000] } : { time: true }],
      ...scaleNames.map((name) => [name, scales[name]?.range ? { range: scales[name].range } : { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(1, max ?? 1) * 1.05] }]),
    ]),
    axes: [
      {},
      ...scaleNames.map((name, index) => ({
        scale: name,
        side: scales[name]?.side ?? (index === 0 ? 3 : 1),
        grid: { show: index === 0 },
        size: 60,
        label: scales[name]?.label,
        values: (_u, ticks) => ticks.map((tick) => (scales[name]?.format ? scales[name].format(tick) : String(tick))),
      })),
    ],
    series: [
      {},
      ...series.map((one, index) => {
        const color = one.color ?? COLORS[index % COLORS.length];
        return {
          label: one.label,
          scale: one.scale ?? 'y',
          stroke: color,
          width: one.kind === 'bars' ? 1 : 2,
          fill: one.kind === 'bars' ? `${color}40` : undefined,
          paths: one.kind === 'bars' ? uPlot.paths.bars({ size: [0.7, 48] }) : undefined,
          points: { show: x.length <= 31 },
          spanGaps: false,
          value: (_u, value) => (value == null ? '—' : one.format ? one.format(value) : String(value)),
        };
      }),
    ],
  };
  const data = [x.map((ms) => ms / 1000), ...series.map((one) => one.values)];
  const chart = new uPlot(options, data, container);
  charts.set(container, chart);
  const resize = new ResizeObserver(() => {
    const width = Math.max(280, container.clientWidth);
    if (width !== chart.width) chart.setSize({ width, height: 240 });
  });
  resize.observe(container);
  const destroy = chart.destroy.bind(chart);
  chart.destroy = () => {
    resize.disconnect();
    destroy();
  };
}

/** Removes a container's chart, if it has one. */
export function clearChart(container) {
  charts.get(container)?.destroy();
  charts.delete(container);
  container.replaceChildren();
}
