export { cardPrefixValid, createCardRecogniser } from './cardRecogniser.js';
export { IBAN_LENGTHS, ibanValid, luhnValid, nanpValid, ssnValid } from './checksums.js';
export { BUILT_IN_PLACEHOLDERS, BUILT_IN_RECOGNISERS, createBuiltInRecognisers, type BuiltInRecogniserName } from './builtInRecognisers.js';
export {
  NAMED_VALIDATORS,
  checkCustomRecognisers,
  createCustomRecogniser,
  type CustomRecogniserConfig,
  type NamedValidator,
} from './customRecogniser.js';
export { scrubDeadLetterLine, scrubDeadLetterText, type DeadLetterIdentifiers } from './deadLetterScrubber.js';
export { createEmailRecogniser } from './emailRecogniser.js';
export { createIbanRecogniser } from './ibanRecogniser.js';
export { canonicalIp, isIPv4At, isIPv6At, parseIPv4, parseIPv6 } from './ipAddress.js';
export { createIpRecogniser } from './ipRecogniser.js';
export { assertOutsideDataDir, createKeyFile, defaultKeyFile, parseKeyFile, readKeyFile, resolveKeyFile, type KeyFileRead } from './keyFile.js';
export { loadPrivacyKeys, type LoadPrivacyKeysOptions, type LoadedPrivacyKeys } from './loadPrivacyKeys.js';
export { createPhoneRecogniser } from './phoneRecogniser.js';
export { SCRUBBABLE_FIELDS, createPrivacy, type Privacy, type PrivacyConfig, type ScrubbableField } from './privacy.js';
export { MIN_KEY_BYTES, PrivacyKeyError, decodeKey, decodeKeyList, keyIdOf, privacyKey, type PrivacyKey, type PrivacyKeyring } from './privacyKey.js';
export { PrivacyOptionsSchema, type PrivacyPluginOptions, type ResolvedPrivacyOptions } from './privacyOptions.js';
export { privacyPlugin } from './privacyPlugin.js';
export { createPrivacyProcessor, type PrivacyProcessor } from './privacyProcessor.js';
export {
  PSEUDONYM_FORMAT,
  createPseudonymiser,
  pseudonymInput,
  pseudonymWith,
  type PseudonymField,
  type Pseudonymiser,
  type PseudonymiserOptions,
} from './pseudonymiser.js';
export { findWithRegex, type Finding, type MatchValidator, type Recogniser, type RegexFinderOptions, type TriggerHint } from './recogniser.js';
export { findNestedRepetition } from './regexSafety.js';
export { createSecretRecogniser } from './secretRecogniser.js';
export { REDACTED_PLACEHOLDER, createScrubber, scrubText, scrubberOf, type Scrubber, type ScrubberOptions } from './scrubber.js';
export { createSsnRecogniser } from './ssnRecogniser.js';
export { privacyPlugin as default } from './privacyPlugin.js';
