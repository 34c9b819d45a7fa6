// Each panel: the operation it needs (the server's access rules decide; the page only hides what
// would be refused), how it loads its data for a range, and how it draws it. Loaders share answers
// through `context.once`, so the report and the daily metrics are fetched once per refresh.

import { clearChart, drawTimeChart } from './charts.js';
import { formatCount, formatDateTime, formatDay, formatNumber, formatPercent, formatSeconds } from './format.js';
import { DAY_MS, daysOf } from './ranges.js';

/** Daily points sit at 00:00 UTC; half a day either side keeps the first and last bars whole. */
const HALF_DAY_MS = DAY_MS / 2;
import { renderEmpty, renderTable } from './tables.js';

const part = (section, name) => section.querySelector(`[data-${name}]`);

function setData(section, values) {
  for (const [name, value] of Object.entries(values)) {
    if (value === null || value === undefined) section.removeAttribute(`data-${name}`);
    else section.setAttribute(`data-${name}`, String(value));
  }
}

const rangeParams = (range) => ({ from: range.from, to: range.to });
const report = (context) => context.once('report', () => context.api.get('/v1/report', { ...rangeParams(context.range), top: 10 }));
const dailyMetrics = (context) => context.once('businessMetrics', () => context.api.getAll('/v1/insights/businessMetrics', rangeParams(context.range)));

/** Daily rows for every day of the range; days without data are zero (or null for rates). */
function fillDays(range, items) {
  const byDay = new Map(items.map((item) => [item.day, item]));
  return daysOf(range).map((day) => byDay.get(day) ?? { day, date: formatDay(day), interactions: 0, sessions: 0, successRate: null, avgResponseTime: null, p95ResponseTime: null, avgRating: null, ratedInteractions: 0 });
}

function kpi(label, text, field, raw) {
  const tile = document.createElement('div');
  tile.className = 'kpi';
  tile.dataset.field = field;
  if (raw !== null && raw !== undefined) tile.dataset.value = String(raw);
  const name = document.createElement('div');
  name.className = 'label';
  name.textContent = label;
  const value = document.createElement('div');
  value.className = 'value';
  value.textContent = text;
  tile.append(name, value);
  return tile;
}

export const PANELS = [
  {
    name: 'summary',
    operation: 'report.read',
    async load(context) {
      return report(context);
    },
    render(section, answer) {
      const totals = answer.totals;
      setData(section, {
        interactions: totals.interactions,
        sessions: totals.sessions,
        'success-rate': totals.successRate,
        'avg-response': totals.avgResponseTime,
        'p95-response': totals.p95ResponseTime,
        'avg-rating': totals.avgRating,
      });
      part(section, 'kpis').replaceChildren(
        kpi('Interactions', formatCount(totals.interactions), 'interactions', totals.interactions),
        kpi('Sessions', formatCount(totals.sessions), 'sessions', totals.sessions),
        kpi('Success rate', formatPercent(totals.successRate), 'successRate', totals.successRate),
        kpi('Avg response', formatSeconds(totals.avgResponseTime), 'avgResponseTime', totals.avgResponseTime),
        kpi('p95 response', formatSeconds(totals.p95ResponseTime), 'p95ResponseTime', totals.p95ResponseTime),
        kpi('Avg rating', totals.avgRating === null ? '—' : `${formatNumber(totals.avgRating, 2)} (${formatCount(totals.ratedInteractions)} rated)`, 'avgRating', totals.avgRating),
      );
      return totals.interactions === 0 ? 'No interactions in this range.' : '';
    },
  },
  {
    name: 'daily',
    operation: 'insights.read',
    async load(context) {
      return dailyMetrics(context);
    },
    render(section, answer, context) {
      const days = fillDays(context.range, answer.items);
      const total = days.reduce((sum, day) => sum + day.interactions, 0);
      const withData = answer.items.length;
      setData(section, { 'total-interactions': total, 'days-with-data': withData, days: days.length });
      const caption = part(section, 'caption');
      if (total === 0) {
        clearChart(part(section, 'chart'));
        caption.textContent = '';
        renderEmpty(part(section, 'table'), 'No interactions in this range.');
        return 'No interactions in this range.';
      }
      drawTimeChart(part(section, 'chart'), {
        x: days.map((day) => day.day),
        span: [context.range.from - HALF_DAY_MS, context.range.to - HALF_DAY_MS],
        series: [
          { label: 'Interactions', values: days.map((day) => day.interactions), scale: 'count', kind: 'bars', format: formatCount },
          { label: 'Success rate', values: days.map((day) => day.successRate), scale: 'ratio', format: formatPercent },
        ],
        scales: { count: { format: (value) => formatCount(value) }, ratio: { range: [0, 1], format: (value) => `${Math.round(value * 100)}%`, side: 1 } },
      });
      const busiest = days.reduce((best, day) => (day.interactions > best.interactions ? day : best), days[0]);
      caption.textContent = `${formatCount(total)} interactions on ${withData} of ${days.length} days; busiest ${busiest.date} (${formatCount(busiest.interactions)}).`;
      renderTable(
        part(section, 'table'),
        [
          { label: 'Day', value: (day) => day.date },
          { label: 'Interactions', value: (day) => day.interactions, format: formatCount, numeric: true, attribute: 'interactions' },
          { label: 'Sessions', value: (day) => day.sessions, format: formatCount, numeric: true, attribute: 'sessions' },
          { label: 'Success rate', value: (day) => day.successRate, format: formatPercent, numeric: true, attribute: 'successRate' },
          { label: 'Avg rating', value: (day) => day.avgRating, format: (value) => formatNumber(value), numeric: true, attribute: 'avgRating' },
        ],
        days,
        (day) => ({ 'data-day': day.date }),
      );
      return '';
    },
  },
  {
    name: 'latency',
    operation: 'insights.read',
    async load(context) {
      return dailyMetrics(context);
    },
    render(section, answer, context) {
      const days = fillDays(context.range, answer.items);
      const measured = days.filter((day) => day.interactions > 0 && day.avgResponseTime !== null);
      const weight = measured.reduce((sum, day) => sum + day.interactions, 0);
      const average = weight > 0 ? measured.reduce((sum, day) => sum + day.avgResponseTime * day.interactions, 0) / weight : null;
      const worstP95 = measured.reduce((worst, day) => (day.p95ResponseTime !== null && day.p95ResponseTime > worst ? day.p95ResponseTime : worst), 0);
      setData(section, { 'avg-response': average, 'max-p95': measured.length > 0 ? worstP95 : null });
      const caption = part(section, 'caption');
      if (measured.length === 0) {
        clearChart(part(section, 'chart'));
        caption.textContent = '';
        renderEmpty(part(section, 'table'), 'No interactions in this range.');
        return 'No interactions in this range.';
      }
      drawTimeChart(part(section, 'chart'), {
        x: days.map((day) => day.day),
        span: [context.range.from - HALF_DAY_MS, context.range.to - HALF_DAY_MS],
        series: [
          { label: 'p95', values: days.map((day) => day.p95ResponseTime), scale: 's', format: formatSeconds, color: '#dc2626' },
          { label: 'Average', values: days.map((day) => day.avgResponseTime), scale: 's', format: formatSeconds, color: '#2563eb' },
        ],
        scales: { s: { format: (value) => `${formatNumber(value, 1)} s` } },
      });
      caption.textContent = `Average ${formatSeconds(average)} over the range; worst daily p95 ${formatSeconds(worstP95)}.`;
      renderTable(
        part(section, 'table'),
        [
          { label: 'Day', value: (day) => day.date },
          { label: 'Average', value: (day) => day.avgResponseTime, format: formatSeconds, numeric: true, attribute: 'avgResponseTime' },
          { label: 'p95', value: (day) => day.p95ResponseTime, format: formatSeconds, numeric: true, attribute: 'p95ResponseTime' },
        ],
        days,
        (day) => ({ 'data-day': day.date }),
      );
      return '';
    },
  },
  {
    name: 'roles',
    operation: 'insights.read',
    async load(context) {
      return context.api.getAll('/v1/insights/userBehaviour', rangeParams(context.range));
    },
    render(section, answer) {
      const rows = answer.items;
      const total = rows.reduce((sum, row) => sum + row.interactions, 0);
      setData(section, { roles: rows.length, 'total-interactions': total });
      if (rows.length === 0) {
        renderEmpty(part(section, 'table'), 'No interactions in this range.');
        return '';
      }
      renderTable(
        part(section, 'table'),
        [
          { label: 'Role', value: (row) => row.userRole },
          { label: 'Interactions', value: (row) => row.interactions, format: formatCount, numeric: true, attribute: 'interactions' },
          { label: 'Share', value: (row) => (total > 0 ? row.interactions / total : 0), bar: (row) => (total > 0 ? row.interactions / total : 0) },
          { label: 'Sessions', value: (row) => row.sessions, format: formatCount, numeric: true, attribute: 'sessions' },
          { label: 'Queries / session', value: (row) => row.queriesPerSession, format: (value) => formatNumber(value, 1), numeric: true },
          { label: 'Success', value: (row) => row.successRate, format: formatPercent, numeric: true, attribute: 'successRate' },
          { label: 'Avg response', value: (row) => row.avgResponseTime, format: formatSeconds, numeric: true },
          { label: 'p95', value: (row) => row.p95ResponseTime, format: formatSeconds, numeric: true },
          { label: 'Conversion', value: (row) => row.conversionRate, format: formatPercent, numeric: true },
        ],
        rows,
        (row) => ({ 'data-role': row.userRole, 'data-interactions': row.interactions }),
      );
      return '';
    },
  },
  {
    name: 'queryTypes',
    operation: 'report.read',
    async load(context) {
      return report(context);
    },
    render(section, answer) {
      const rows = answer.byQueryType;
      const total = rows.reduce((sum, row) => sum + row.interactions, 0);
      setData(section, { 'query-types': rows.length, 'total-interactions': total });
      if (rows.length === 0) {
        renderEmpty(part(section, 'table'), 'No interactions in this range.');
        return '';
      }
      renderTable(
        part(section, 'table'),
        [
          { label: 'Query type', value: (row) => row.queryType },
          { label: 'Interactions', value: (row) => row.interactions, format: formatCount, numeric: true, attribute: 'interactions' },
          { label: 'Share', value: (row) => (total > 0 ? row.interactions / total : 0), bar: (row) => (total > 0 ? row.interactions / total : 0) },
          { label: 'Success', value: (row) => row.successRate, format: formatPercent, numeric: true, attribute: 'successRate' },
          { label: 'Avg response', value: (row) => row.avgResponseTime, format: formatSeconds, numeric: true },
        ],
        rows,
        (row) => ({ 'data-query-type': row.queryType, 'data-interactions': row.interactions }),
      );
      return '';
    },
  },
  {
    name: 'topQuestions',
    operation: 'insights.read',
    async load(context) {
      return context.api.get('/v1/insights/commonQuestions', { ...rangeParams(context.range), limit: 10 });
    },
    render(section, answer) {
      setData(section, { questions: answer.items.length, 'top-asks': answer.items[0]?.asks ?? null });
      if (answer.items.length === 0) {
        renderEmpty(part(section, 'table'), 'No questions in this range.');
        return '';
      }
      renderTable(
        part(section, 'table'),
        [
          { label: 'Question', value: (row) => row.query, attribute: 'query' },
          { label: 'Type', value: (row) => row.category },
          { label: 'Asks', value: (row) => row.asks, format: formatCount, numeric: true, attribute: 'asks' },
          { label: 'Success', value: (row) => row.successRate, format: formatPercent, numeric: true },
          { label: 'Avg response', value: (row) => row.avgResponseTime, format: formatSeconds, numeric: true },
          { label: 'Rating', value: (row) => row.avgRating, format: (value) => formatNumber(value), numeric: true },
        ],
        answer.items,
        (row) => ({ 'data-query-hash': row.queryHash, 'data-asks': row.asks }),
      );
      return '';
    },
  },
  {
    name: 'trending',
    operation: 'insights.read',
    async load(context) {
      return context.api.get('/v1/insights/trendingQueries', { ...rangeParams(context.range), limit: 10 });
    },
    render(section, answer) {
      setData(section, { questions: answer.items.length });
      part(section, 'caption').textContent =
        answer.asOf === null ? '' : `The ${answer.recentDays} days to ${formatDay(answer.asOf - 1)} against the ${answer.baselineDays} days before them.`;
      if (answer.items.length === 0) {
        renderEmpty(part(section, 'table'), 'Nothing is asked more than its history predicts.');
        return '';
      }
      renderTable(
        part(section, 'table'),
        [
          { label: 'Question', value: (row) => row.query, attribute: 'query' },
          { label: 'Recent asks', value: (row) => row.recentAsks, format: formatCount, numeric: true, attribute: 'recentAsks' },
          { label: 'Expected', value: (row) => row.expectedAsks, format: (value) => formatNumber(value, 1), numeric: true },
          { label: 'Score', value: (row) => row.trendingScore, format: (value) => formatNumber(value, 2), numeric: true },
        ],
        answer.items,
        (row) => ({ 'data-query-hash': row.queryHash, 'data-recent-asks': row.recentAsks }),
      );
      return '';
    },
  },
  {
    name: 'content',
    operation: 'insights.read',
    async load(context) {
      return context.api.get('/v1/insights/contentEffectiveness', { ...rangeParams(context.range), limit: 20 });
    },
    render(section, answer) {
      setData(section, { items: answer.items.length, 'total-accesses': answer.items.reduce((sum, row) => sum + row.accesses, 0) });
      if (answer.items.length === 0) {
        renderEmpty(part(section, 'table'), 'No knowledge item was used in this range.');
        return '';
      }
      renderTable(
        part(section, 'table'),
        [
          { label: 'Type', value: (row) => row.contentType },
          { label: 'Item', value: (row) => row.contentId, attribute: 'contentId' },
          { label: 'Uses', value: (row) => row.accesses, format: formatCount, numeric: true, attribute: 'accesses' },
          { label: 'Avg relevance', value: (row) => row.avgRelevance, format: (value) => formatNumber(value), numeric: true },
          { label: 'Success', value: (row) => row.successRate, format: formatPercent, numeric: true },
          { label: 'Score', value: (row) => row.performanceScore, format: (value) => formatNumber(value, 3), numeric: true, attribute: 'performanceScore' },
          { label: '', value: (row) => row.performanceScore, bar: (row) => row.performanceScore },
        ],
        answer.items,
        (row) => ({ 'data-content-id': row.contentId, 'data-content-type': row.contentType, 'data-accesses': row.accesses }),
      );
      return '';
    },
  },
  {
    name: 'alerts',
    operation: 'alerts.read',
    optionalPlugin: true,
    async load(context) {
      return context.api.get('/v1/alerts');
    },
    render(section, answer) {
      const states = {};
      for (const rule of answer.rules) states[rule.state] = (states[rule.state] ?? 0) + 1;
      const firing = answer.alerts.filter((alert) => alert.status === 'firing').length;
      setData(section, { firing, pending: answer.alerts.length - firing, rules: answer.rules.length });
      part(section, 'caption').textContent = `${answer.rules.length} rules (${Object.entries(states).map(([state, count]) => `${count} ${state}`).join(', ') || 'none'}); ${answer.silences} silences.`;
      if (answer.alerts.length === 0) {
        renderEmpty(part(section, 'table'), 'No alert is pending or firing.');
        return '';
      }
      renderTable(
        part(section, 'table'),
        [
          { label: 'Status', value: (alert) => alert.status, pill: true },
          { label: 'Severity', value: (alert) => alert.severity, pill: true },
          { label: 'Rule', value: (alert) => alert.rule },
          { label: 'What', value: (alert) => alert.summary },
          { label: 'Since', value: (alert) => alert.firingSince ?? alert.activeSince, format: formatDateTime },
          { label: 'Silenced', value: (alert) => (alert.silenced ? 'yes' : 'no') },
        ],
        answer.alerts,
        (alert) => ({ 'data-rule': alert.rule, 'data-status': alert.status }),
      );
      return '';
    },
  },
  {
    name: 'quality',
    operation: 'status.read',
    optionalPlugin: true,
    async load(context) {
      return context.api.get('/v1/quality');
    },
    render(section, answer) {
      const latest = answer.latest;
      setData(section, { status: latest ? latest.status : 'none' });
      if (!latest) {
        part(section, 'caption').textContent = '';
        renderEmpty(part(section, 'table'), 'The checks have not run yet (they run daily, or now with `strata quality`).');
        return '';
      }
      part(section, 'caption').textContent = `Run ${latest.runId}, finished ${formatDateTime(latest.finishedAt)}: ${latest.status}.`;
      renderTable(
        part(section, 'table'),
        [
          { label: 'Check', value: (check) => check.check },
          { label: 'Status', value: (check) => check.status, pill: true },
          { label: 'Observed', value: (check) => check.observed, format: (value, check) => (value === null ? '—' : `${formatNumber(value, 4)}${check.unit ? ` ${check.unit}` : ''}`), numeric: true },
          { label: 'Threshold', value: (check) => check.threshold },
          { label: 'Finding', value: (check) => check.message },
        ],
        latest.checks,
        (check) => ({ 'data-check': check.check, 'data-status': check.status }),
      );
      return '';
    },
  },
  {
    name: 'system',
    operation: 'insights.read',
    async load(context) {
      const granularity = context.range.days <= 7 ? 'hour' : 'day';
      const answer = await context.api.getAll('/v1/insights/systemPerformance', { ...rangeParams(context.range), granularity });
      return { ...answer, granularity };
    },
    render(section, answer, context) {
      const series = new Map();
      for (const point of answer.items) {
        const key = `${point.metricName}|${point.component ?? ''}|${point.unit ?? ''}`;
        let entry = series.get(key);
        if (!entry) {
          entry = { key, metricName: point.metricName, component: point.component, unit: point.unit, samples: 0, sum: 0, min: Infinity, max: -Infinity, points: [] };
          series.set(key, entry);
        }
        entry.samples += point.samples;
        entry.sum += point.avg * point.samples;
        entry.min = Math.min(entry.min, point.min);
        entry.max = Math.max(entry.max, point.max);
        entry.points.push(point);
      }
      const rows = [...series.values()].sort((a, b) => a.metricName.localeCompare(b.metricName));
      setData(section, { metrics: rows.length, granularity: answer.granularity });
      const select = part(section, 'metric-select');
      const chart = part(section, 'chart');
      if (rows.length === 0) {
        select.replaceChildren();
        clearChart(chart);
        part(section, 'caption').textContent = '';
        renderEmpty(part(section, 'table'), 'No system metrics in this range (the server samples them every minute while it runs).');
        return '';
      }
      const previous = select.value;
      select.replaceChildren(
        ...rows.map((row) => {
          const option = document.createElement('option');
          option.value = row.key;
          option.textContent = `${row.metricName}${row.component ? ` (${row.component})` : ''}`;
          return option;
        }),
      );
      const preferred = rows.find((row) => row.key === previous) ?? rows.find((row) => row.metricName === 'system.memory_rss_mb') ?? rows[0];
      select.value = preferred.key;
      const draw = () => {
        const row = series.get(select.value);
        if (!row) return;
        const unit = row.unit ? ` ${row.unit}` : '';
        drawTimeChart(chart, {
          x: row.points.map((point) => point.bucketStart),
          span: [context.range.from, context.range.to],
          series: [
            { label: 'avg', values: row.points.map((point) => point.avg), scale: 'v', format: (value) => `${formatNumber(value)}${unit}` },
            { label: 'max', values: row.points.map((point) => point.max), scale: 'v', format: (value) => `${formatNumber(value)}${unit}`, color: '#dc2626' },
          ],
          scales: { v: { format: (value) => formatNumber(value, 1) } },
        });
        part(section, 'caption').textContent = `${row.metricName}${unit ? ` in${unit}` : ''}, per ${answer.granularity}.`;
      };
      select.onchange = draw;
      draw();
      renderTable(
        part(section, 'table'),
        [
          { label: 'Metric', value: (row) => row.metricName },
          { label: 'Component', value: (row) => row.component },
          { label: 'Unit', value: (row) => row.unit },
          { label: 'Samples', value: (row) => row.samples, format: formatCount, numeric: true, attribute: 'samples' },
          { label: 'Avg', value: (row) => (row.samples > 0 ? row.sum / row.samples : null), format: (value) => formatNumber(value), numeric: true, attribute: 'avg' },
          { label: 'Min', value: (row) => row.min, format: (value) => formatNumber(value), numeric: true },
          { label: 'Max', value: (row) => row.max, format: (value) => formatNumber(value), numeric: true },
        ],
        rows,
        (row) => ({ 'data-metric': row.metricName, 'data-samples': row.samples }),
      );
      return '';
    },
  },
  {
    name: 'interactions',
    operation: 'interactions.read',
    async load(context) {
      return context.api.get('/v1/interactions', { ...rangeParams(context.range), limit: 20 });
    },
    render(section, answer, context) {
      const rows = answer.items;
      const more = part(section, 'more');
      setData(section, { rows: rows.length });
      if (rows.length === 0) {
        more.hidden = true;
        renderEmpty(part(section, 'table'), 'No interactions in this range.');
        return '';
      }
      renderTable(
        part(section, 'table'),
        [
          { label: 'Time', value: (row) => row.timestamp, format: formatDateTime },
          { label: 'Session', value: (row) => row.sessionId, format: (value) => (value.length > 12 ? `${value.slice(0, 12)}…` : value) },
          { label: 'Role', value: (row) => row.userRole },
          { label: 'Type', value: (row) => row.queryType },
          { label: 'Query', value: (row) => row.query },
          { label: 'Success', value: (row) => (row.success ? 'yes' : 'no') },
          { label: 'Response', value: (row) => row.responseTime, format: formatSeconds, numeric: true },
          { label: 'Rating', value: (row) => row.userRating, numeric: true },
        ],
        rows,
        (row) => ({ 'data-event-id': row.eventId }),
      );
      more.hidden = answer.nextCursor === null;
      more.onclick = async () => {
        more.disabled = true;
        try {
          const next = await context.api.get('/v1/interactions', { ...rangeParams(context.range), limit: 20, cursor: answer.nextCursor });
          this.render(section, next, context);
        } finally {
          more.disabled = false;
        }
      };
      return '';
    },
  },
];

