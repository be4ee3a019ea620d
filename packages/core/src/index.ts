export { createAlbumkit, type Albumkit, type AlbumkitOptions } from './albumkit.js';
export { parseConfig, configFromEnv, parseCloudinaryUrl, type AlbumkitConfig, type AlbumkitConfigInput, type EnvConfig, type RedisSentinelSettings } from './config.js';
export * from './errors.js';
export type { CoreHandler, CoreRequest, CoreResponse, HeaderValue, PublicHandler } from './http/types.js';
export { BASE_HEADERS, buildResponse, errorResponse, requestIdFrom } from './http/responses.js';
export { connectDatabase, type DatabaseHandle, type ConnectOptions, type DialectName } from './db/connect.js';
export { migrateToLatest } from './db/migrate.js';
export type * from './db/schema.js';
export { Tokens, tokenFromAuthorization, TOKEN_TTL_SECONDS, type TokenClaims, type Authenticated } from './auth/tokens.js';
export { ABILITIES, can, type Ability, type Abilities, type Principal } from './auth/abilities.js';
export {
  deliverySignature,
  apiSignature,
  apiStringToSign,
  verifyNotificationSignature,
  signNotification,
  verifyUploadResultSignature,
  proxySignature,
  safeEqual,
} from './cloudinary/signing.js';
export { DeliveryUrlSigner, ProxyUrlSigner, slugify, type AssetRef } from './cloudinary/urls.js';
export { ImageJsonCache, type CachedImage, type ImageJsonCacheOptions } from './cache/image-json.js';
export type { ChannelListener, Unlisten } from './db/listen.js';
export { ImageSerializer, RENDITIONS, formatTime, type ImageJson } from './serializers/image.js';
export type { AlbumJson, UploadForm } from './serializers/album.js';
export { takenAtFromExif } from './domain/exif-time.js';
export { toLatLng, chooseGps, type LatLng } from './domain/gps.js';
export {
  JOB_NAMES,
  jobId,
  checkProcessors,
  isUnrecoverable,
  UnrecoverableJobError,
  type JobPort,
  type JobName,
  type JobPayloads,
  type JobContext,
  type NotificationJob,
  type Processor,
  type Processors,
} from './jobs/port.js';
export { InProcessJobs, type InProcessJobsOptions } from './jobs/in-process.js';
export { EVENT_NAMES, type EventMap, type EventName, type EventPayloads, type UploadDonePayload, type ImageEventPayload, type ImageWebhookPayload, type TagEventPayload } from './events/bus.js';
export { webhookSignature, WEBHOOK_EVENT_HEADER, WEBHOOK_SIGNATURE_HEADER } from './services/webhooks.js';
export { DeadLetterRepository, type NewDeadLetter } from './repositories/dead-letters.js';
export { checkLiteralAddress, checkRemoteUrl, isPublicAddress, pinnedLookup, privateHostAllowed, RemoteTargetError } from './net/remote-policy.js';
export type { ProcessingResult } from './services/images.js';
export type { Logger } from './logger.js';
export type { IssuedSecret } from './services/setup.js';
export type { DescribedHandler } from './http/handler.js';
export { openApiDocument, openApiPath, type OpenApiOptions } from './http/openapi.js';
export type { AnyRoute, RouteDefinition, ResponseSpec } from './http/route.js';
export { IntegratorService, STICKER_ALBUM, type OrganizationJson, type UserJson, type AnnotationJson } from './services/integrator.js';
export * from './ops/index.js';
export { TagService, labelsFrom, tokenTags } from './services/tags.js';
export { TagRepository } from './repositories/tags.js';
export { contrastColor, serializeTag, TAG_PALETTE, type TagJson, type TagImageJson, type TagLabels, type TagSuggestionJson, type PublicTagImageJson } from './serializers/tag.js';
