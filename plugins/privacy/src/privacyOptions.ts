import { z } from 'zod';
import { BUILT_IN_RECOGNISERS, type BuiltInRecogniserName } from './builtInRecognisers.js';
import { checkCustomRecognisers, type CustomRecogniserConfig } from './customRecogniser.js';
import { SCRUBBABLE_FIELDS } from './privacy.js';

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be an environment variable name (letters, digits and _)' });

const builtInToggles = z
  .object(Object.fromEntries(BUILT_IN_RECOGNISERS.map((name) => [name, z.boolean().optional()])) as Record<BuiltInRecogniserName, z.ZodOptional<z.ZodBoolean>>)
  .strict();

const customRecogniser = z
  .object({
    name: z.string(),
    pattern: z.union([z.string().min(1).max(2_000), z.instanceof(RegExp)], { error: 'must be a regular expression (a string in JSON, a string or RegExp in TypeScript)' }),
    flags: z.string().optional(),
    placeholder: z.string().optional(),
    group: z.number().int().optional(),
    validate: z
      .union([z.string(), z.custom<(match: string) => boolean>((value) => typeof value === 'function')], { error: 'must be "luhn", "iban", or (TypeScript config) a function' })
      .optional(),
  })
  .strict();

/** Options of the privacy plugin (the README's options table explains each). */
export const PrivacyOptionsSchema = z
  .object({
    /** Environment variable holding the key (hex or base64, at least 32 bytes). */
    keyEnv: envName.default('STRATA_PRIVACY_KEY'),
    /** Environment variable holding previous keys, comma or space separated, kept for lookups after a rotation. */
    previousKeysEnv: envName.default('STRATA_PRIVACY_PREVIOUS_KEYS'),
    /** Key file used when the variable is not set: `~/…`, absolute, or relative to the working directory. Default `~/.config/strata/privacy.key`. */
    keyFile: z.string().min(1).optional(),
    /** Create the key file with a new random key when neither the variable nor the file exists. */
    createKeyFile: z.boolean().default(true),
    /** Replace `sessionId` by its keyed pseudonym. */
    pseudonymiseSessionId: z.boolean().default(true),
    /** Text fields to scrub. */
    fields: z.array(z.enum(SCRUBBABLE_FIELDS)).default(['query']),
    /** Turn built-in recognisers on or off: `{ "phone": false }`. All are on by default. */
    builtIns: builtInToggles.default({}),
    /** A team's own recognisers: `{ name, pattern, flags?, placeholder?, group?, validate? }`. */
    recognisers: z.array(customRecogniser).default([]),
    /** Pseudonyms remembered per field, in memory only, so repeated values skip the HMAC. */
    cacheSize: z.number().int().min(0).max(1_000_000).default(10_000),
  })
  .strict()
  .superRefine((options, context) => {
    for (const issue of checkCustomRecognisers(options.recognisers as CustomRecogniserConfig[])) {
      context.addIssue({ code: 'custom', message: issue.message, path: pathOf(issue.path) });
    }
  });

/** `recognisers[1].pattern` → `['recognisers', 1, 'pattern']`. */
function pathOf(path: string): Array<string | number> {
  return path
    .split(/[.[\]]/)
    .filter((part) => part !== '')
    .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
}

export type PrivacyPluginOptions = z.input<typeof PrivacyOptionsSchema>;
export type ResolvedPrivacyOptions = z.output<typeof PrivacyOptionsSchema>;
