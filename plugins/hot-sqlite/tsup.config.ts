import { defineConfig } from 'tsup';

export default defineConfig({
  // The writer thread is its own entry: a Worker loads it by file.
  entry: ['src/index.ts', 'src/writerWorker.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
  target: 'node20',
});
