/** WAL pages between automatic checkpoints (4 KiB pages: about 40 MB). */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;
