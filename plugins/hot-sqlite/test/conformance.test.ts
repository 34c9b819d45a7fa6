import { join } from 'node:path';
import { describeStorageTierConformance } from '@strata/testing';
import { HotSqliteTier } from '../src/index.js';

describeStorageTierConformance('hot-sqlite', {
  open: async (directory) => HotSqliteTier.open({ file: join(directory, 'comprehensive_metrics.db') }),
});
