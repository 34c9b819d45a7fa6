import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createStrata } from '@strata/core';

// `pnpm --filter @strata/example-custom-sink start`: a local receiver stands in for the third-party
// service; it refuses the first request with 503 so the retry shows. Everything runs offline.
let requests = 0;
let received = 0;
const receiver = createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    requests += 1;
    if (requests === 1) {
      console.log('receiver: request 1 answered 503 (the sink will retry it)');
      response.writeHead(503).end();
      return;
    }
    const { events } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: unknown[] };
    received += events.length;
    console.log(`receiver: request ${requests} brought ${events.length} event(s)`);
    response.writeHead(204).end();
  });
});
await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/strata`;

const exampleDir = fileURLToPath(new URL('..', import.meta.url));
const strata = await createStrata({
  cwd: exampleDir, // where `package` is resolved from, as it would be from a project's config file
  dataDir: 'data',
  config: {
    plugins: ['hot-sqlite', { name: 'webhook-forwarder', package: '@strata/example-custom-sink', options: { url, maxEventsPerRequest: 10 } }],
    pipeline: { sinks: { 'webhook-forwarder': { initialBackoffMs: 250 } } },
    logLevel: 'warn',
  },
  monitor: false,
});

const now = Date.now();
for (let turn = 1; turn <= 25; turn += 1) {
  strata.record({ sessionId: `demo-${Math.ceil(turn / 5)}`, timestamp: now + turn, userRole: 'student', query: `demo question ${turn}`, queryType: 'general', responseTime: 0.2, success: true, conversationTurn: ((turn - 1) % 5) + 1 });
}
await strata.flush(); // the hot tier committed all 25, and the sink caught up
console.log(`receiver got ${received} of 25 events in ${requests} requests; the sink's counters:`, strata.metrics().sinks['webhook-forwarder']);
await strata.close();
receiver.close();
