import type { Album } from '../db/schema.js';
import type { ImageJson } from './image.js';

export interface UploadForm {
  url: string;
  expires_at: number;
  name: string;
  id: string;
  params: {
    colors: 1;
    faces: 1;
    image_metadata: 1;
    notification_url: string;
    phash: 1;
    tags: string;
    timestamp: number;
    type: 'authenticated';
    signature: string;
    api_key: string;
  };
  test_url: string;
}

export interface AlbumJson {
  id: string;
  public_id: string;
  images_count: number;
  views_count: number;
  /** Null for a token that may not upload into the album. */
  upload_form: UploadForm | null;
  organization_id: string;
  /** Its latest images. */
  thumbnails: ImageJson[];
}

/** An album as `GET /albums` lists it. */
export interface AlbumListJson {
  id: string;
  public_id: string;
  images_count: number;
  thumbnails: ImageJson[];
}

export function serializeAlbumListing(album: Album, thumbnails: ImageJson[]): AlbumListJson {
  return { id: album.id, public_id: album.id, images_count: album.images_count, thumbnails };
}

export function serializeAlbum(album: Album, uploadForm: UploadForm | null, thumbnails: ImageJson[] = []): AlbumJson {
  return {
    id: album.id,
    public_id: album.id,
    images_count: album.images_count,
    views_count: album.views_count,
    upload_form: uploadForm,
    organization_id: album.organization_id,
    thumbnails,
  };
}
