import { createRequire } from 'node:module';

// Read from package.json (one level up from both src/ and dist/), so the manifest never names a stale version.
const manifest = createRequire(import.meta.url)('../package.json') as { name: string; version: string };

/** Recorded in every backup manifest, so a backup says which writer made it. */
export const PACKAGE_NAME = manifest.name;
export const PACKAGE_VERSION = manifest.version;
