import { HttpError, echo } from './http.js';
import { formatFromExtension, isOutputFormat, type OutputFormat } from './formats.js';

export const MAX_COMPONENTS = 10;
export const MAX_PARAMS_PER_COMPONENT = 12;
export const MAX_DIMENSION = 10_000;

export type CropMode = 'scale' | 'fit' | 'limit' | 'fill' | 'lfill' | 'thumb' | 'pad' | 'crop';
const CROP_MODES: readonly CropMode[] = ['scale', 'fit', 'limit', 'fill', 'lfill', 'thumb', 'pad', 'crop'];

const GRAVITIES = new Set([
  'auto', 'face', 'faces', 'center', 'north', 'south', 'east', 'west',
  'north_east', 'north_west', 'south_east', 'south_west',
]);

/** Flags that change nothing in a local rendition, accepted so real URLs keep working. */
const NEUTRAL_FLAGS = new Set([
  'progressive', 'lossy', 'keep_iptc', 'keep_attribution', 'strip_profile', 'immutable_cache',
  'force_strip', 'preserve_transparency', 'any_format', 'awebp', 'animated', 'png8', 'png24', 'png32',
]);

/** Cloudinary's transformation keys: used to tell a transformation segment from a folder name. */
const KNOWN_KEYS = new Set([
  'a', 'ar', 'b', 'bo', 'c', 'co', 'cs', 'd', 'dl', 'dn', 'dpr', 'du', 'e', 'eo', 'f', 'fl', 'fn', 'fps',
  'g', 'h', 'if', 'ki', 'l', 'o', 'pg', 'q', 'r', 'so', 'sp', 't', 'u', 'vc', 'vs', 'w', 'x', 'y', 'z',
]);

/** One `/`-separated component after parsing: a resize, then a rotation. */
export interface Step {
  crop: CropMode | undefined;
  width: number | undefined;
  height: number | undefined;
  gravity: string | undefined;
  angle: number | undefined;
  /** `x_`/`y_`: the top-left corner of a `c_crop` region, in pixels. */
  x?: number | undefined;
  y?: number | undefined;
}

export interface Transformation {
  /** Components that change pixels, in order. */
  steps: Step[];
  /** `f_...`: 'auto' or an explicit output format. */
  format: OutputFormat | 'auto' | undefined;
  /** `q_...`: a number 1..100, or 'auto'. */
  quality: number | 'auto' | undefined;
  /** `fl_attachment[:name]`. */
  attachment: { filename: string | undefined } | undefined;
}

const invalid = (message: string) => new HttpError(400, message);

/** True when a URL segment reads as a transformation component (`c_fill,w_200`). */
export function looksLikeTransformation(segment: string): boolean {
  return segment.split(',').every((param) => {
    const match = /^([a-z]{1,3})_./.exec(param);
    return match !== null && KNOWN_KEYS.has(match[1]!);
  });
}

/** Parses transformation components; unsupported or out-of-range values are a 400. */
export function parseTransformation(components: readonly string[]): Transformation {
  if (components.length > MAX_COMPONENTS) throw invalid(`Too many transformation components (maximum ${MAX_COMPONENTS})`);
  const result: Transformation = { steps: [], format: undefined, quality: undefined, attachment: undefined };
  for (const component of components) {
    const params = component.split(',');
    if (params.length > MAX_PARAMS_PER_COMPONENT) throw invalid(`Too many parameters in transformation ${echo(component)}`);
    const step: Step = { crop: undefined, width: undefined, height: undefined, gravity: undefined, angle: undefined };
    let dpr = 1;
    for (const param of params) {
      const separator = param.indexOf('_');
      if (separator <= 0 || separator === param.length - 1) throw invalid(`Invalid transformation parameter ${echo(param)}`);
      const key = param.slice(0, separator);
      const value = param.slice(separator + 1);
      switch (key) {
        case 'c':
          if (!(CROP_MODES as readonly string[]).includes(value)) throw invalid(`Unsupported crop mode ${echo(value)}`);
          step.crop = value as CropMode;
          break;
        case 'w':
          step.width = parseDimension(param, value);
          break;
        case 'h':
          step.height = parseDimension(param, value);
          break;
        case 'x':
          step.x = parseOffset(param, value);
          break;
        case 'y':
          step.y = parseOffset(param, value);
          break;
        case 'g':
          if (!GRAVITIES.has(value)) throw invalid(`Unsupported gravity ${echo(value)}`);
          step.gravity = value;
          break;
        case 'a':
          if (value !== 'auto') {
            if (!/^-?\d{1,3}$/.test(value) || Math.abs(Number(value)) > 360) throw invalid(`Invalid angle ${echo(value)}`);
            step.angle = Number(value);
          }
          break;
        case 'dpr':
          if (value !== 'auto') {
            dpr = Number(value);
            if (!/^\d{1,2}(\.\d{1,3})?$/.test(value) || dpr < 0.1 || dpr > 5) throw invalid(`Invalid dpr ${echo(value)}`);
          }
          break;
        case 'f':
          result.format = parseFormat(value);
          break;
        case 'q':
          result.quality = parseQuality(value);
          break;
        case 'fl':
          for (const flag of value.split('.')) parseFlag(flag, result);
          break;
        default:
          throw invalid(`Unsupported transformation parameter ${echo(param)}`);
      }
    }
    if (dpr !== 1) {
      if (step.width !== undefined) step.width = scaleDimension(step.width, dpr);
      if (step.height !== undefined) step.height = scaleDimension(step.height, dpr);
    }
    if ((step.x !== undefined || step.y !== undefined) && step.crop !== 'crop') throw invalid(`x_ and y_ need c_crop in ${echo(component)}`);
    const resizes = step.width !== undefined || step.height !== undefined;
    if (resizes || step.angle !== undefined) result.steps.push(step);
  }
  return result;
}

function parseOffset(param: string, value: string): number {
  if (!/^\d{1,5}(\.\d{1,6})?$/.test(value)) throw invalid(`Invalid offset ${echo(param)} (a number of pixels from 0 is expected)`);
  const n = Math.round(Number(value));
  if (n > MAX_DIMENSION) throw invalid(`Offset out of range ${echo(param)} (0 to ${MAX_DIMENSION})`);
  return n;
}

function parseDimension(param: string, value: string): number {
  if (!/^\d{1,5}$/.test(value)) throw invalid(`Invalid dimension ${echo(param)} (a whole number of pixels is expected)`);
  const n = Number(value);
  if (n < 1 || n > MAX_DIMENSION) throw invalid(`Dimension out of range ${echo(param)} (1 to ${MAX_DIMENSION})`);
  return n;
}

function scaleDimension(value: number, dpr: number): number {
  const scaled = Math.round(value * dpr);
  if (scaled < 1 || scaled > MAX_DIMENSION) throw invalid(`Dimension out of range after dpr (1 to ${MAX_DIMENSION})`);
  return scaled;
}

function parseFormat(value: string): OutputFormat | 'auto' {
  if (value === 'auto') return 'auto';
  const format = formatFromExtension(value);
  if (!format || !isOutputFormat(format)) throw invalid(`Unsupported format ${echo(value)}`);
  return format;
}

function parseQuality(value: string): number | 'auto' {
  if (/^auto(:(best|good|eco|low))?$/.test(value)) return 'auto';
  if (!/^\d{1,3}$/.test(value) || Number(value) < 1 || Number(value) > 100) throw invalid(`Invalid quality ${echo(value)}`);
  return Number(value);
}

function parseFlag(flag: string, result: Transformation): void {
  if (flag === 'attachment' || flag.startsWith('attachment:')) {
    const name = flag.slice('attachment:'.length);
    if (flag !== 'attachment' && !/^[\w-]{1,100}$/.test(name)) throw invalid(`Invalid attachment name ${echo(name)}`);
    result.attachment = { filename: flag === 'attachment' ? undefined : name };
  } else if (!NEUTRAL_FLAGS.has(flag)) {
    throw invalid(`Unsupported flag ${echo(flag)}`);
  }
}
