// A load generator in its own process: keeps `connections` keep-alive connections busy against
// `url` for `seconds`, and prints latency percentiles (ms) and the request rate as one JSON line.
import http from 'node:http';

const [url, secondsText = '10', connectionsText = '8'] = process.argv.slice(2);
const seconds = Number(secondsText);
const connections = Number(connectionsText);
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const latencies = [];
const deadline = performance.now() + seconds * 1000;
let errors = 0;

function once() {
  return new Promise((resolve) => {
    const started = performance.now();
    const request = http.get(url, { agent }, (response) => {
      response.resume();
      response.on('end', () => {
        latencies.push(performance.now() - started);
        resolve();
      });
    });
    request.on('error', () => {
      errors += 1;
      resolve();
    });
  });
}

async function worker() {
  while (performance.now() < deadline) await once();
}

await Promise.all(Array.from({ length: connections }, worker));
agent.destroy();
latencies.sort((a, b) => a - b);
const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
console.log(JSON.stringify({ requests: latencies.length, perSecond: latencies.length / seconds, p50: at(0.5), p99: at(0.99), max: at(1), errors }));
