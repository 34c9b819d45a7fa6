export { describeArchiveConformance, type ArchiveConformanceOptions } from './archiveConformance.js';
export { createFakeClock, type FakeClock } from './fakeClock.js';
export { PII_NEGATIVE_TEXTS, PII_POSITIVE_CASES, PII_TYPES, type PiiCase, type PiiType, type PiiValue } from './piiCorpus.js';
export { createRandom, type Random } from './random.js';
export { ERASED_ALONE_QUESTION, archivedErasureWorkload, type ArchivedErasureWorkload } from './erasureWorkload.js';
export { ROLLUP_WORKLOAD_BASE, rollupWorkloadArbitrary, splitIntoBatches } from './rollupWorkload.js';
export { describeStorageTierConformance, sampleInteractions, type StorageTierConformanceOptions } from './storageTierConformance.js';
export { generateWorkload, workloadLines, type WorkloadOptions } from './workload.js';
export { writeWorkloadFile } from './workloadFile.js';
