import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/**
 * The database as one interface: every query is checked against it. JSON columns use `json`
 * (not `jsonb`) on purpose: `json` keeps the key order and number spelling of what was posted,
 * which the API returns as is (`infos`).
 */

export type Json = unknown;
/** A `json` column: read as parsed JSON, written as JSON text. */
export type JsonColumn = ColumnType<Json, string, string>;
export type NullableJsonColumn = ColumnType<Json | null, string | null, string | null>;
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface OrganizationTable {
  id: string;
  name: string;
  /** Salesforce organization id, when the organization syncs with Salesforce. */
  sfid: ColumnType<string | null, string | null | undefined, string | null>;
  sandbox: Generated<boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

export interface UserTable {
  id: string;
  organization_id: string;
  /** Salesforce id of the user, when the organization syncs with Salesforce. */
  sfid: string | null;
  email: string | null;
  name: string | null;
  created_at: Timestamp;
}

export interface OrganizationSecretTable {
  /** The `iss` of the tokens an integrator signs with this secret. */
  id: string;
  organization_id: string;
  secret: string;
  description: string | null;
  revoked_at: Date | null;
  created_at: Timestamp;
}

export interface AlbumTable {
  organization_id: string;
  /** A UUID, or an external id such as a Salesforce record id; unique per organization. */
  id: string;
  /** Images counted before migration 0003; read counts through AlbumRepository (adds album_image_counts). */
  images_count: Generated<number>;
  views_count: Generated<number>;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** Shards of an album's image count (see migration 0003). */
export interface AlbumImageCountTable {
  organization_id: string;
  album_id: string;
  shard: number;
  count: number;
}

export interface ImageTable {
  id: string;
  organization_id: string;
  album_id: string;
  user_id: string | null;
  /** `<public_id>@<version>` of the Cloudinary upload; null for duplicates. Unique per organization. */
  upload_key: string | null;
  cloudinary_public_id: string;
  cloudinary_version: string;
  cloudinary_type: string;
  infos: JsonColumn;
  exifs: JsonColumn;
  metadatas: JsonColumn;
  gps: NullableJsonColumn;
  gps_ip: NullableJsonColumn;
  gps_exifs: NullableJsonColumn;
  gps_html: NullableJsonColumn;
  taken_at: Date | null;
  width: number;
  height: number;
  rotation: Generated<number>;
  crop_x: Generated<number>;
  crop_y: Generated<number>;
  crop_w: Generated<number>;
  crop_h: Generated<number>;
  original_width: number;
  original_height: number;
  filename: string | null;
  format: string | null;
  title: string | null;
  description: string | null;
  page: Generated<number>;
  group_id: string | null;
  color: Generated<string>;
  processed: Generated<boolean>;
  processing_error: string | null;
  /** Creation order (int8, read as a string), finer than `created_at`; null for images created before migration 0006. */
  seq: ColumnType<string | null, never, never>;
  /** When an "upload done" event listed this image; null until then. */
  reported_at: Date | null;
  created_at: Timestamp;
  updated_at: Timestamp;
  /** Set while the image is in the trash (gone from everything a user sees until restored or purged). */
  deleted_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
}

/** A tag of an organization (migration 0012); unique by name in it. */
export interface TagTable {
  id: string;
  organization_id: string;
  name: string;
  /** `{en, fr}`: the labels the API answers (`label`, `label_en`, `label_fr`). */
  labels: JsonColumn;
  public: Generated<boolean>;
  listed: Generated<boolean>;
  visible: Generated<boolean>;
  allow_download: Generated<boolean>;
  color: string;
  created_at: Timestamp;
  updated_at: Timestamp;
}

/** A tag on an image, once per pair, with the user who put it there. */
export interface TagImageTable {
  id: string;
  organization_id: string;
  tag_id: string;
  image_id: string;
  user_id: string | null;
  created_at: Timestamp;
}

export interface EventTable {
  id: string;
  organization_id: string;
  album_id: string | null;
  type: string;
  payload: JsonColumn;
  created_at: Timestamp;
  /** The webhook outbox: true (set by a trigger) while the event has subscribers whose jobs are not enqueued yet (migration 0021). */
  webhooks_pending: Generated<boolean>;
}

/** A job that ran out of attempts or failed for good, kept for `albumkit-worker replay` (migration 0021). */
export interface DeadLetterTable {
  id: string;
  queue: string;
  job_id: string;
  subject: string | null;
  data: JsonColumn;
  reason: string;
  attempts: number;
  retryable: boolean;
  failed_at: Timestamp;
  replayed_at: Timestamp | null;
  replays: Generated<number>;
  created_at: Generated<Timestamp>;
}

export interface WebhookTable {
  id: string;
  organization_id: string;
  url: string;
  /** Key of the HMAC-SHA256 signature of each delivery. */
  secret: string;
  /** Event names delivered; null: all. */
  events: NullableJsonColumn;
  active: Generated<boolean>;
  created_at: Timestamp;
}

export interface WebhookDeliveryTable {
  id: string;
  webhook_id: string;
  event_id: string;
  attempt: number;
  status: 'delivered' | 'failed';
  response_status: number | null;
  error: string | null;
  duration_ms: number;
  created_at: Timestamp;
}

/** Accepted Cloudinary notifications (migration 0004). */
export interface NotificationTable {
  organization_id: string;
  upload_key: string;
  album_id: string;
  user_id: string | null;
  upload: JsonColumn;
  received_at: Timestamp;
  done_at: Date | null;
}

export interface Database {
  organizations: OrganizationTable;
  users: UserTable;
  organization_secrets: OrganizationSecretTable;
  albums: AlbumTable;
  album_image_counts: AlbumImageCountTable;
  images: ImageTable;
  tags: TagTable;
  tag_images: TagImageTable;
  events: EventTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
  notifications: NotificationTable;
  image_annotations: ImageAnnotationTable;
  clipboards: ClipboardTable;
  image_external_urls: ImageExternalUrlTable;
  imports: ImportTable;
  downloads: DownloadTable;
  dead_letters: DeadLetterTable;
}

/** The annotation drawn over an image: SVG text and the editor's state, as the client sent them. */
export interface ImageAnnotationTable {
  image_id: string;
  organization_id: string;
  svg: string | null;
  object: NullableJsonColumn;
  updated_at: Timestamp;
}

export type Organization = Selectable<OrganizationTable>;
export type User = Selectable<UserTable>;
export type OrganizationSecret = Selectable<OrganizationSecretTable>;
export type Album = Selectable<AlbumTable>;
export type Image = Selectable<ImageTable>;
export type NewImage = Insertable<ImageTable>;
export type ImageUpdate = Updateable<ImageTable>;
export type AlbumEvent = Omit<Selectable<EventTable>, 'webhooks_pending'>;
export type DeadLetter = Selectable<DeadLetterTable>;
export type Tag = Selectable<TagTable>;
export type TagImage = Selectable<TagImageTable>;
export type Webhook = Selectable<WebhookTable>;
export type WebhookDelivery = Selectable<WebhookDeliveryTable>;
export type StoredNotification = Selectable<NotificationTable>;

/** Images a user copied, to paste into another album. */
export interface ClipboardTable {
  id: string;
  organization_id: string;
  user_id: string | null;
  image_ids: string[];
  created_at: Timestamp;
}
export type Clipboard = Selectable<ClipboardTable>;

/** A lasting public link to an image with its transformations (migration 0018); it outlives the image. */
export interface ImageExternalUrlTable {
  id: string;
  organization_id: string;
  image_id: string;
  user_id: string | null;
  infos: JsonColumn;
  /** The checked transformation steps, applied after the image's `full` rendition. */
  steps: JsonColumn;
  created_at: Timestamp;
}
export type ImageExternalUrl = Selectable<ImageExternalUrlTable>;

/** An import from a URL (migration 0019): pending, then done (with its image) or failed (with the reason). */
export interface ImportTable {
  id: string;
  organization_id: string;
  album_id: string;
  user_id: string | null;
  dedup_key: string;
  import_type: string | null;
  params: JsonColumn;
  request: JsonColumn;
  status: ColumnType<'pending' | 'done' | 'failed', 'pending' | 'done' | 'failed' | undefined, 'pending' | 'done' | 'failed'>;
  upload: NullableJsonColumn;
  image_id: string | null;
  error: string | null;
  created_at: Timestamp;
  updated_at: Timestamp;
}
export type Import = Selectable<ImportTable>;

/** A zip download (migration 0020): the images picked, in order, and its owner. */
export interface DownloadTable {
  id: string;
  organization_id: string;
  user_id: string | null;
  secret_id: string | null;
  image_ids: ColumnType<string[], string, string>;
  created_at: Timestamp;
  updated_at: Timestamp;
}
export type Download = Selectable<DownloadTable>;
