import { join } from 'node:path';
import { describeStorageTierConformance } from '@strata/testing';
import { HotSqliteTier } from '../src/index.js';

describeStorageTierConformance('hot-sqlite (inline writer)', {
  open: async (directory) => HotSqliteTier.open({ file: join(directory, 'comprehensive_metrics.db'), writer: 'inline' }),
});

describeStorageTierConformance('hot-sqlite (writer thread)', {
  open: async (directory) => HotSqliteTier.open({ file: join(directory, 'comprehensive_metrics.db'), writer: 'thread' }),
});
