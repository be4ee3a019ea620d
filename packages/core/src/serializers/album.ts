import type { Album } from '../db/schema.js';

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
  thumbnails: string[];
}

export function serializeAlbum(album: Album, uploadForm: UploadForm | null, thumbnails: string[] = []): AlbumJson {
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
