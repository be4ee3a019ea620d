import type { Image, Tag, TagImage } from '../db/schema.js';
import { formatTime, type ImageJson } from './image.js';

/** The labels of a tag, as the API answers them (`label` is their JSON text). */
export interface TagLabels {
  en: string;
  fr: string;
}

/** A tag, keys in the recorded order. */
export interface TagJson {
  id: string;
  created_at: string;
  name: string;
  label: string;
  url: string;
  public: boolean;
  listed: boolean;
  action: { actions: unknown[] };
  visible: boolean;
  color: string;
  color_contrast: string;
  allow_download: boolean;
  label_en: string;
  label_fr: string;
}

/** What autocompletion answers per tag. */
export interface TagSuggestionJson {
  id: string;
  name: string;
  color: string;
  color_contrast: string;
  label_en: string;
  label_fr: string;
}

export interface TagImageJson {
  id: string;
  created_at: string;
  user: string | null;
  image: ImageJson;
  tag: TagJson;
}

/** The colours a new tag is given (Material Design's 500 shades), one at random. */
export const TAG_PALETTE = [
  '#F44336', '#E91E63', '#9C27B0', '#673AB7', '#3F51B5', '#2196F3', '#03A9F4', '#00BCD4', '#009688', '#4CAF50',
  '#8BC34A', '#CDDC39', '#FFEB3B', '#FFC107', '#FF9800', '#FF5722', '#795548', '#9E9E9E', '#607D8B',
] as const;

const channel = (hex: string) => {
  const c = parseInt(hex, 16) / 255;
  return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
};

/**
 * The text colour of a tag's chip: black on light colours, white on the rest. Light means a
 * relative luminance (WCAG) of at least 0.3, the line the recorded tags draw: #2196F3 (0.29)
 * has white text, #03A9F4 (0.35) black; pure contrast ratios would put black on both.
 */
export function contrastColor(color: string): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color)?.[1];
  if (!hex) return '#000000';
  const l = 0.2126 * channel(hex.slice(0, 2)) + 0.7152 * channel(hex.slice(2, 4)) + 0.0722 * channel(hex.slice(4, 6));
  return l >= 0.3 ? '#000000' : '#ffffff';
}

export function labelsOf(tag: Tag): TagLabels {
  const labels = tag.labels as Partial<TagLabels> | null;
  return { en: typeof labels?.en === 'string' ? labels.en : tag.name, fr: typeof labels?.fr === 'string' ? labels.fr : tag.name };
}

export function serializeTag(tag: Tag): TagJson {
  const labels = labelsOf(tag);
  return {
    id: tag.id,
    created_at: formatTime(tag.created_at),
    name: tag.name,
    label: JSON.stringify({ en: labels.en, fr: labels.fr }),
    url: `/public_tags/${tag.id}`,
    public: tag.public,
    listed: tag.listed,
    action: { actions: [] },
    visible: tag.visible,
    color: tag.color,
    color_contrast: contrastColor(tag.color),
    allow_download: tag.allow_download,
    label_en: labels.en,
    label_fr: labels.fr,
  };
}

export function serializeTagSuggestion(tag: Tag): TagSuggestionJson {
  const labels = labelsOf(tag);
  return { id: tag.id, name: tag.name, color: tag.color, color_contrast: contrastColor(tag.color), label_en: labels.en, label_fr: labels.fr };
}

export function serializeTagImage(link: TagImage, tag: Tag, image: ImageJson): TagImageJson {
  return { id: link.id, created_at: formatTime(link.created_at), user: link.user_id, image, tag: serializeTag(tag) };
}

/** What a public tag page shows of an image: no signed URL, no metadata, no EXIF. */
export interface PublicImageJson {
  id: string;
  infos: unknown;
  public_id: string;
  width: number;
  height: number;
  rotation: number;
  public_url: string;
  original_width: number;
  original_height: number;
  crop_x: number;
  crop_y: number;
  crop_w: number;
  crop_h: number;
  color: string;
  created_at: string;
  taken_at: string | null;
  album_id: string;
}

export interface PublicTagImageJson {
  id: string;
  created_at: string;
  image: PublicImageJson;
  tag: { id: string; created_at: string; name: string; url: string; public: boolean; color: string; allow_download: boolean };
}

export function serializePublicTagImage(link: TagImage, tag: Tag, image: Image): PublicTagImageJson {
  return {
    id: link.id,
    created_at: formatTime(link.created_at),
    image: {
      id: image.id,
      infos: image.infos,
      public_id: image.id,
      width: image.width,
      height: image.height,
      rotation: image.rotation,
      public_url: `/images/${image.id}`,
      original_width: image.original_width,
      original_height: image.original_height,
      crop_x: image.crop_x,
      crop_y: image.crop_y,
      crop_w: image.crop_w,
      crop_h: image.crop_h,
      color: image.color,
      created_at: formatTime(image.created_at),
      taken_at: image.taken_at ? formatTime(image.taken_at) : null,
      album_id: image.album_id,
    },
    tag: { id: tag.id, created_at: formatTime(tag.created_at), name: tag.name, url: `/public_tags/${tag.id}`, public: tag.public, color: tag.color, allow_download: tag.allow_download },
  };
}
