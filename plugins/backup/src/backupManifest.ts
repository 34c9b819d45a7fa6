import { createHash } from 'node:crypto';
import { z } from 'zod';

/** File name of the manifest inside a backup directory. */
export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'strata-backup';
export const MANIFEST_VERSION = 1;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'must be 64 lowercase hex digits');

const ManifestFileSchema = z
  .object({
    /** Relative to the backup directory, `/`-separated. */
    path: z.string().min(1),
    bytes: z.number().int().min(0),
    sha256: sha256Hex,
    /** `tier`: a tier's file, restored to `restoreTo`; `config`: the configuration in force, never restored automatically. */
    kind: z.enum(['tier', 'config']),
    tier: z.string().optional(),
    role: z.enum(['hot', 'warm', 'cold']).optional(),
    /** Absolute path the file was backed up from and is restored to. */
    restoreTo: z.string().optional(),
    /** `restoreTo` relative to the manifest's `dataDir` when it lies inside it, so a restore into another data dir puts it in the same place there. */
    dataDirPath: z.string().nullable().optional(),
    /** Present for SQLite databases: the integrity check and rows per table of the copy, as taken. */
    sqlite: z.object({ integrityCheck: z.literal('ok'), tables: z.record(z.string(), z.number().int().min(0)) }).strict().optional(),
  })
  .strict();

const ManifestBodySchema = z
  .object({
    format: z.literal(MANIFEST_FORMAT),
    version: z.literal(MANIFEST_VERSION),
    id: z.string().min(1),
    /** Epoch ms when the backup started. */
    createdAt: z.number().int(),
    createdAtIso: z.string(),
    /** Epoch ms when the manifest was written. */
    completedAt: z.number().int(),
    durationMs: z.number().min(0),
    /** The data dir at backup time. */
    dataDir: z.string().min(1),
    host: z.string(),
    writer: z.object({ name: z.string(), version: z.string() }).strict(),
    tiers: z.array(z.object({ name: z.string(), role: z.enum(['hot', 'warm', 'cold']), dir: z.string(), files: z.number().int(), bytes: z.number().int() }).strict()),
    skippedTiers: z.array(z.object({ name: z.string(), role: z.enum(['hot', 'warm', 'cold']), reason: z.string() }).strict()),
    config: z.object({ source: z.string().nullable(), files: z.array(z.string()) }).strict(),
    files: z.array(ManifestFileSchema),
    totals: z.object({ files: z.number().int(), bytes: z.number().int() }).strict(),
  })
  .strict();

export type ManifestFile = z.output<typeof ManifestFileSchema>;
export type ManifestBody = z.output<typeof ManifestBodySchema>;
export interface BackupManifest extends ManifestBody {
  /** SHA-256 of the manifest's own canonical text without this field: a damaged manifest is detected, not trusted. */
  manifestSha256: string;
}

/**
 * The manifest's text: pretty JSON (people read it) whose last field is the SHA-256 of the same JSON
 * without that field. Serialising goes through a JSON round trip first, so the text is exactly what
 * `JSON.stringify(JSON.parse(text))` gives back — the property `parseManifest` checks.
 */
export function serializeManifest(body: ManifestBody): string {
  const canonical = JSON.parse(JSON.stringify(body)) as ManifestBody;
  const manifestSha256 = createHash('sha256').update(JSON.stringify(canonical, null, 2)).digest('hex');
  return `${JSON.stringify({ ...canonical, manifestSha256 }, null, 2)}\n`;
}

export type ParsedManifest = { ok: true; manifest: BackupManifest } | { ok: false; problem: string };

/**
 * Reads a manifest and proves it is the text that was written: any change of any byte either breaks
 * the JSON, changes a value (the self-checksum no longer matches), or leaves the values alone and
 * changes only the layout (the text is no longer the canonical serialisation of its values).
 */
export function parseManifest(text: string): ParsedManifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, problem: `is not valid JSON (${(error as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, problem: 'is not a JSON object' };
  const { manifestSha256, ...body } = value as Record<string, unknown>;
  if (typeof manifestSha256 !== 'string') return { ok: false, problem: 'has no manifestSha256 field' };
  const actual = createHash('sha256').update(JSON.stringify(body, null, 2)).digest('hex');
  if (actual !== manifestSha256) return { ok: false, problem: `its content does not match its own checksum (manifestSha256 says ${manifestSha256.slice(0, 12)}…, the content hashes to ${actual.slice(0, 12)}…)` };
  if (`${JSON.stringify(value, null, 2)}\n` !== text) return { ok: false, problem: 'its text was altered (it is not the text that was written, though its values parse the same)' };
  const checked = ManifestBodySchema.safeParse(body);
  if (!checked.success) {
    const version = (body as { version?: unknown }).version;
    if (typeof version === 'number' && version > MANIFEST_VERSION) {
      return { ok: false, problem: `has format version ${version}; this @strata/backup reads version ${MANIFEST_VERSION}; use a newer one` };
    }
    const issue = checked.error.issues[0]!;
    return { ok: false, problem: `is not a backup manifest: ${issue.path.join('.') || 'the whole'}: ${issue.message}` };
  }
  return { ok: true, manifest: { ...checked.data, manifestSha256 } };
}
