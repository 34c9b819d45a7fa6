export { createStrataServer, type ServerAddress, type StrataServer } from './strataServer.js';
export {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_HOST,
  DEFAULT_MAX_CONCURRENT_INGESTS,
  DEFAULT_MAX_EVENTS_PER_BATCH,
  DEFAULT_PORT,
  formatBytes,
  parseByteSize,
  resolveServerOptions,
  type ResolvedServerOptions,
  type StrataServerOptions,
} from './serverOptions.js';
export { TokenAuthenticator, constantTimeEqual, hashToken, resolveTokens, type AuthenticationFailure, type ResolvedToken, type TokenSpec } from './tokenAuth.js';
export type { AlertsPanelData, DashboardPanels, QualityPanelData } from './dashboardPanels.js';
export type { IngestEventResult, IngestResponse } from './ingestRoute.js';
export type { IngestAdmissionCounters } from './ingestAdmission.js';
export type { Readiness, ReadinessCheck } from './healthRoutes.js';
export { INSIGHTS_QUESTIONS, type InsightsQuestion } from './insightsRoutes.js';
export {
  BadRequestError,
  HttpError,
  NotFoundError,
  OverloadedError,
  PayloadTooLargeError,
  UnauthenticatedError,
  UnavailableError,
  UnsupportedMediaTypeError,
  statusForStrataError,
  type ErrorBody,
} from './httpErrors.js';
