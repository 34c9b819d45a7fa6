import { startAssistant } from './server.js';

// `node dist/main.js`: PORT (default 3000; 0 picks a free one) and ASSISTANT_DATA_DIR (default
// ./data beside strata.config.json) come from the environment.
const assistant = await startAssistant({
  port: process.env.PORT === undefined ? 3000 : Number(process.env.PORT),
  dataDir: process.env.ASSISTANT_DATA_DIR || undefined,
});
console.log(`assistant listening on ${assistant.url}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`${signal}: closing`);
    assistant.close().then(
      () => console.log('closed: every recorded interaction is stored'),
      (error: unknown) => {
        console.error(error);
        process.exitCode = 1;
      },
    );
  });
}
