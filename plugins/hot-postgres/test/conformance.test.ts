import { basename } from 'node:path';
import { describeStorageTierConformance } from '@strata/testing';
import { dropSchemas, openTier, postgresSkipReason } from './postgresServer.js';

// One schema per test: the suite's directory names it, so reopening the same directory reopens the same data.
const schemaOf = (directory: string) => `t_conf_${basename(directory).replace(/[^a-z0-9]/gi, '').toLowerCase()}`;

describeStorageTierConformance('hot-postgres', {
  skip: await postgresSkipReason(),
  open: (directory) => openTier(schemaOf(directory)),
  cleanup: (directory) => dropSchemas(schemaOf(directory)),
});
