import { definePlugin } from '@strata/core';
import type { CustomRecogniserConfig } from './customRecogniser.js';
import { loadPrivacyKeys } from './loadPrivacyKeys.js';
import { createPrivacy } from './privacy.js';
import { PrivacyOptionsSchema } from './privacyOptions.js';
import { createPrivacyProcessor } from './privacyProcessor.js';
import { createPseudonymiser } from './pseudonymiser.js';
import { createScrubber } from './scrubber.js';

/**
 * The privacy plugin: a processor that pseudonymises session ids, IP addresses and user agents
 * with a keyed HMAC and scrubs personal data out of free text before anything is stored. Its
 * processor also scrubs dead-letter lines (`scrubText`) and maps session ids to their stored
 * pseudonyms for erasure (`storedSessionIds`).
 */
export const privacyPlugin = definePlugin({
  name: 'privacy',
  version: '0.1.0',
  options: PrivacyOptionsSchema,
  setup(context, options) {
    const keys = loadPrivacyKeys({
      keyEnv: options.keyEnv,
      previousKeysEnv: options.previousKeysEnv,
      keyFile: options.keyFile,
      createKeyFile: options.createKeyFile,
      dataDir: context.dataDir,
      logger: context.logger,
    });
    const scrubber = createScrubber({ builtIns: options.builtIns, recognisers: options.recognisers as CustomRecogniserConfig[] });
    const privacy = createPrivacy({
      pseudonymiser: createPseudonymiser(keys.keyring, { cacheSize: options.cacheSize }),
      scrubber,
      fields: options.fields,
      pseudonymiseSessionId: options.pseudonymiseSessionId,
    });
    context.logger.info(
      { keyId: privacy.keyId, previousKeys: keys.keyring.previous.map((key) => key.id), recognisers: scrubber.recognisers.map((recogniser) => recogniser.name), fields: options.fields },
      `privacy: pseudonyms with key ${privacy.keyId} from ${keys.source}`,
    );
    return { processors: [createPrivacyProcessor(privacy)] };
  },
});
