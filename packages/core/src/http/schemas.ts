import { z } from 'zod';

/**
 * The JSON shapes albumkit answers with, as zod schemas: the OpenAPI document describes every
 * response with them, and the contract tests check recorded responses against that document.
 * The serializers (`serializers/`) produce these shapes; the schemas are their description.
 */

const latLng = z.tuple([z.number(), z.number()]).nullable().describe('[latitude, longitude], or null');
const time = z.string().describe('ISO 8601 time with milliseconds and offset, e.g. 2018-01-01T08:00:00.000+00:00');

export const errorSchema = z
  .object({
    error: z.string().describe('A stable error code (see `ErrorCode`)'),
    message: z.string().describe('What was wrong, naming the field when a field was'),
    request_id: z.string().optional().describe('Present on 5xx answers: quote it when reporting the problem'),
  })
  .meta({ id: 'Error' });

export const albumListingSchema = z
  .object({
    id: z.string(),
    public_id: z.string(),
    images_count: z.number().int(),
    thumbnails: z.array(z.lazy(() => imageSchema)).describe('The JSON of its latest images'),
  })
  .meta({ id: 'AlbumListing' });

export const uploadFormSchema = z
  .object({
    url: z.string().describe('Where the browser posts the file (Cloudinary upload API)'),
    expires_at: z.number().int().describe('Unix time after which the form is refused'),
    name: z.string(),
    id: z.string(),
    params: z.looseObject({
      colors: z.literal(1),
      faces: z.literal(1),
      image_metadata: z.literal(1),
      notification_url: z.string(),
      phash: z.literal(1),
      tags: z.string(),
      timestamp: z.number().int(),
      type: z.literal('authenticated'),
      signature: z.string(),
      api_key: z.string(),
    }),
    test_url: z.string(),
  })
  .meta({ id: 'UploadForm' });

export const albumSchema = z
  .object({
    id: z.string(),
    public_id: z.string(),
    images_count: z.number().int(),
    views_count: z.number().int(),
    upload_form: uploadFormSchema.nullable().describe('Null for a token that may not upload into the album'),
    organization_id: z.string(),
    thumbnails: z.array(z.lazy(() => imageSchema)).describe('The JSON of a few of its images'),
  })
  .meta({ id: 'Album' });

const thumbnailsSchema = z.object({
  original: z.string(),
  full_no_sharinpix: z.string(),
  full: z.string(),
  large: z.string(),
  mini: z.string(),
});

const imageShape = {
  id: z.string(),
  public_id: z.string(),
  infos: z.looseObject({}).nullable().describe('The Cloudinary upload result as received (and the client-posted fields)'),
  exifs: z.record(z.string(), z.unknown()).nullable().describe("EXIF as Cloudinary's image_metadata prints it"),
  gps: latLng,
  gps_ip: latLng,
  gps_exifs: latLng,
  gps_html: latLng,
  created_at: time,
  updated_at: time,
  taken_at: time.nullable(),
  width: z.number(),
  height: z.number(),
  rotation: z.number(),
  crop_x: z.number(),
  crop_y: z.number(),
  crop_w: z.number(),
  crop_h: z.number(),
  metadatas: z.record(z.string(), z.unknown()).nullable(),
  original_url: z.string(),
  original_width: z.number(),
  original_height: z.number(),
  external_urls: z.object({ fill100: z.string(), fit2000: z.string(), mini: z.string(), large: z.string(), full: z.string() }),
  filename: z.string().nullable(),
  format: z.string().nullable(),
  title: z.string().nullable(),
  description: z.string().nullable(),
  page: z.number().int().nullable(),
  group_id: z.string().nullable(),
  color: z.string().nullable(),
  size: z.union([z.number(), z.string()]).nullable().describe('Bytes of the original, as the upload result gave them'),
  processed: z.boolean(),
  processing_error: z.string().nullable(),
  album_id: z.string(),
};

export const imageSchema = z.object({ ...imageShape, thumbnails: thumbnailsSchema }).meta({ id: 'Image' });

export const imageSyncSchema = z
  .object({ ...imageShape, tag_names: z.array(z.string()), user_sfid: z.string().nullable(), thumbnails: thumbnailsSchema })
  .meta({ id: 'ImageSync' });

export const organizationSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    sandbox: z.boolean(),
    sfid: z.string().nullable().describe('Salesforce organization id, when the organization syncs with Salesforce'),
  })
  .meta({ id: 'Organization' });

export const userSchema = z
  .object({
    public_id: z.string(),
    fullname: z.string(),
    email: z.string().nullable(),
    admin: z.boolean(),
    username: z.string().nullable(),
  })
  .meta({ id: 'User' });

export const secretSchema = z
  .object({
    id: z.string().describe('The `iss` of the tokens signed with this secret'),
    url: z.string().describe('`sharinpix://<id>:<secret>@<host>/api/v1`: shown once, keep it'),
    organization: organizationSchema,
  })
  .meta({ id: 'Secret' });

export const generatedTokenSchema = z
  .object({
    token: z.string().describe('A JWT with the requested claims, for the caller'),
    endpoint: z.string().describe('host[:port] of this API'),
  })
  .meta({ id: 'GeneratedToken' });

export const annotationSchema = z
  .object({
    svg: z.string().nullable().describe('The SVG drawn over the image, as text (never served as an SVG document)'),
    object: z.unknown().describe('The editor state the client stored with it (JSON), or null'),
  })
  .meta({ id: 'Annotation' });

export const trashedImageSchema = z
  .object({
    id: z.string(),
    deleted_at: time.nullable().describe('When it went to the trash'),
    thumbnail_url: z.string().describe('Its `large` thumbnail'),
  })
  .meta({ id: 'TrashedImage' });

export const clipboardSchema = z
  .object({ id: z.string(), user_id: z.string().nullable(), organization_id: z.string(), created_at: time })
  .meta({ id: 'Clipboard' });

export const tagSchema = z
  .object({
    id: z.string(),
    created_at: time,
    name: z.string(),
    label: z.string().describe('The labels as JSON text: `{"en": …, "fr": …}`'),
    url: z.string().describe('`/public_tags/<id>`'),
    public: z.boolean().describe('Its page (`GET /tags/:id/public_tags`) is open to anyone'),
    listed: z.boolean(),
    action: z.object({ actions: z.array(z.unknown()) }),
    visible: z.boolean(),
    color: z.string(),
    color_contrast: z.string().describe('Black or white, whichever reads best on `color`'),
    allow_download: z.boolean(),
    label_en: z.string(),
    label_fr: z.string(),
  })
  .meta({ id: 'Tag' });

export const tagSuggestionSchema = z
  .object({ id: z.string(), name: z.string(), color: z.string(), color_contrast: z.string(), label_en: z.string(), label_fr: z.string() })
  .meta({ id: 'TagSuggestion' });

export const tagImageSchema = z
  .object({ id: z.string(), created_at: time, user: z.string().nullable().describe('Who tagged'), image: z.lazy(() => imageSchema), tag: tagSchema })
  .meta({ id: 'TagImage' });

export const publicTagImageSchema = z
  .object({
    id: z.string(),
    created_at: time,
    image: z.object({
      id: z.string(),
      infos: z.unknown(),
      public_id: z.string(),
      width: z.number().int(),
      height: z.number().int(),
      rotation: z.number().int(),
      public_url: z.string().describe('`/images/<id>`, served by the public router'),
      original_width: z.number().int(),
      original_height: z.number().int(),
      crop_x: z.number(),
      crop_y: z.number(),
      crop_w: z.number(),
      crop_h: z.number(),
      color: z.string(),
      created_at: time,
      taken_at: time.nullable(),
      album_id: z.string(),
    }),
    tag: z.object({ id: z.string(), created_at: time, name: z.string(), url: z.string(), public: z.boolean(), color: z.string(), allow_download: z.boolean() }),
  })
  .meta({ id: 'PublicTagImage' });

export const imageExternalUrlSchema = z
  .object({
    id: z.string(),
    image_id: z.string(),
    infos: z.object({ image_id: z.string(), transformations: z.unknown().optional() }).describe('What was asked, as given'),
    url: z.string().describe('The lasting public link, through the proxy, to `/image_external_urls/<id>`'),
    source_url: z.string().describe('The image as it is now, with the transformations (behind the placeholder until processed)'),
    resource_url: z.string().describe('The same link as `url`'),
  })
  .meta({ id: 'ImageExternalUrl' });

export const imageUrlSchema = z.object({ url: z.string().describe('Signed delivery URL of the image'), image_id: z.string() }).meta({ id: 'ImageUrl' });
export const embedSchema = z.object({ html: z.string().describe('An `<img>`, or a `<video>` with its sources') }).meta({ id: 'Embed' });
export const uploaderSchema = z
  .object({ id: z.string().optional(), name: z.string().nullable().optional() })
  .describe('The user who uploaded the image; `{}` when none is known')
  .meta({ id: 'Uploader' });

export const importSchema = z
  .object({
    id: z.string(),
    organization_id: z.string(),
    image_id: z.string().nullable().describe('The image, once imported'),
    import_type: z.string().nullable().describe('`url` once the job took it'),
    album_id: z.string(),
    params: z.record(z.string(), z.unknown()).describe('What was posted (request headers left out)'),
    created_at: z.string(),
    updated_at: z.string(),
    // Not in the recorded API's answers (which had no way to tell a failure): albumkit always sends them.
    status: z.enum(['pending', 'done', 'failed']).optional().describe('`done` once the image is made, `failed` once the job gave up'),
    error: z.string().nullable().optional().describe('Why the import failed, or why its last attempt did while it is retried'),
  })
  .meta({ id: 'Import' });

export const downloadSchema = z
  .object({ id: z.string().describe('Download id'), zip_url: z.string().describe('Signed, expiring link of the ZIP (a public route)') })
  .meta({ id: 'Download' });
