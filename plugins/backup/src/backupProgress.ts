/** How far a backup, verification or restore got; sizes in bytes. */
export interface BackupProgress {
  /** `copy`: tiers writing their files; `verify`: checksumming and checking; `restore`: copying files back. */
  phase: 'copy' | 'verify' | 'restore';
  /** What is being worked on: a tier name or a file inside the backup. */
  item: string;
  /** Bytes handled so far in this phase. */
  bytes: number;
  /** Bytes the phase handles in all, when known (a tier's copy size is not known in advance). */
  totalBytes?: number;
}

export type ProgressListener = (progress: BackupProgress) => void;
