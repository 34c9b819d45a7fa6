export { describeArchiveConformance, type ArchiveConformanceOptions } from './archiveConformance.js';
export { createFakeClock, type FakeClock } from './fakeClock.js';
export { createRandom, type Random } from './random.js';
export { describeStorageTierConformance, sampleInteractions, type StorageTierConformanceOptions } from './storageTierConformance.js';
export { generateWorkload, workloadLines, type WorkloadOptions } from './workload.js';
export { writeWorkloadFile } from './workloadFile.js';
