import { join } from 'node:path';
import type { InteractionArchive } from '@strata/core';
import { describeArchiveConformance, describeStorageTierConformance } from '@strata/testing';
import { JsonArchive, JsonArchiveTier } from '../src/index.js';

describeArchiveConformance('json-archive', {
  open: async (directory) => JsonArchive.open({ dir: join(directory, 'archive') }),
  close: async (archive: InteractionArchive) => (archive as JsonArchive).close(),
});

describeArchiveConformance('json-archive (gzip level 1)', {
  open: async (directory) => JsonArchive.open({ dir: join(directory, 'archive'), gzipLevel: 1 }),
  close: async (archive: InteractionArchive) => (archive as JsonArchive).close(),
});

describeStorageTierConformance('json-archive cold tier', {
  open: async (directory) => JsonArchiveTier.open({ dir: join(directory, 'archive') }),
});
