import { defineConfig } from 'tsup';

// Only the runner is built: the configs are loaded as they are (jiti compiles strata.config.ts files in memory).
export default defineConfig({
  entry: ['src/main.ts'],
  format: ['esm'],
  sourcemap: true,
  clean: true,
  target: 'node20',
});
