import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import { HttpError } from './http.js';

/** Request parameters. `tags[]`-style repeated fields become arrays under `tags`. */
export type Fields = Record<string, string | string[]>;

export interface UploadedFile {
  data: Buffer;
  /** The multipart file name; undefined for a data: URI or base64 `file` field. */
  filename: string | undefined;
}

export interface ParsedForm {
  fields: Fields;
  file: UploadedFile | undefined;
}

export interface FormLimits {
  fileBytes: number;
  fields: number;
  fieldBytes: number;
}

export const DEFAULT_FORM_LIMITS: FormLimits = {
  fileBytes: 50 * 1024 * 1024,
  fields: 100,
  fieldBytes: 16 * 1024,
};

const FIELD_NAME = /^([A-Za-z][A-Za-z0-9_]{0,63})(\[\])?$/;

/** Reads a multipart or url-encoded API request, enforcing every limit. */
export async function readForm(req: IncomingMessage, limits: FormLimits = DEFAULT_FORM_LIMITS): Promise<ParsedForm> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) return readMultipart(req, limits);
  if (type.startsWith('application/x-www-form-urlencoded')) return readUrlEncoded(req, limits);
  req.resume();
  throw new HttpError(400, 'Unsupported Content-Type: use multipart/form-data or application/x-www-form-urlencoded');
}

/** Collects fields into a prototype-free record, refusing odd names and oversized values. */
class FieldCollector {
  readonly fields: Fields = Object.create(null) as Fields;
  private count = 0;

  constructor(private readonly limits: FormLimits) {}

  add(rawName: string, value: string): void {
    if (++this.count > this.limits.fields) throw new HttpError(400, `Too many parameters (maximum ${this.limits.fields})`);
    const match = FIELD_NAME.exec(rawName);
    if (!match) throw new HttpError(400, 'Invalid parameter name');
    if (Buffer.byteLength(value) > this.limits.fieldBytes) {
      throw new HttpError(400, `Parameter ${match[1]} is too long (maximum ${this.limits.fieldBytes} bytes)`);
    }
    const name = match[1]!;
    const existing = this.fields[name];
    if (match[2]) {
      this.fields[name] = Array.isArray(existing) ? [...existing, value] : [value];
    } else if (existing !== undefined) {
      throw new HttpError(400, `Duplicate parameter ${name}`);
    } else {
      this.fields[name] = value;
    }
  }
}

function tooLarge(got: number | string, limits: FormLimits): HttpError {
  return new HttpError(400, `File size too large. Got ${got}. Maximum is ${limits.fileBytes}.`);
}

function readMultipart(req: IncomingMessage, limits: FormLimits): Promise<ParsedForm> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      parser = busboy({
        headers: req.headers,
        limits: {
          fileSize: limits.fileBytes,
          files: 1,
          fields: limits.fields,
          // Room for a base64 `file` field; other fields are held to fieldBytes by FieldCollector.
          fieldSize: textFileMaxBytes(limits),
          fieldNameSize: 100,
          parts: limits.fields + 1,
        },
      });
    } catch {
      req.resume();
      reject(new HttpError(400, 'Malformed multipart request'));
      return;
    }
    const collector = new FieldCollector(limits);
    let file: UploadedFile | undefined;
    let textFile: string | undefined;
    // The first problem wins; the body is still drained so the client sees our answer.
    let failure: HttpError | undefined;
    const fail = (error: unknown) => {
      failure ??= error instanceof HttpError ? error : new HttpError(400, 'Malformed multipart request');
    };

    parser.on('field', (name, value, info) => {
      if (failure) return;
      if (info.nameTruncated) return fail(new HttpError(400, 'Invalid parameter name'));
      try {
        if (name === 'file') {
          if (info.valueTruncated) return fail(new HttpError(400, 'Parameter file is too long; send it as a file part'));
          textFile = value;
        } else {
          collector.add(name, value);
        }
      } catch (error) {
        fail(error);
      }
    });
    parser.on('file', (name, stream, info) => {
      if (name !== 'file' || failure) {
        if (!failure) fail(new HttpError(400, `Unexpected file part ${name.slice(0, 64)}`));
        stream.resume();
        return;
      }
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('limit', () => fail(tooLarge(`more than ${limits.fileBytes}`, limits)));
      stream.on('end', () => {
        file = { data: Buffer.concat(chunks), filename: info.filename };
      });
    });
    parser.on('filesLimit', () => fail(new HttpError(400, 'Only one file may be uploaded per request')));
    parser.on('fieldsLimit', () => fail(new HttpError(400, `Too many parameters (maximum ${limits.fields})`)));
    parser.on('partsLimit', () => fail(new HttpError(400, `Too many parameters (maximum ${limits.fields})`)));
    parser.on('error', () => {
      req.unpipe(parser);
      req.resume();
      reject(failure ?? new HttpError(400, 'Malformed multipart request'));
    });
    parser.on('close', () => {
      if (failure) return reject(failure);
      try {
        if (textFile !== undefined) {
          if (file) throw new HttpError(400, 'Only one file may be uploaded per request');
          file = { data: decodeTextFile(textFile, limits), filename: undefined };
        }
        resolve({ fields: collector.fields, file });
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', (error) => reject(error));
    req.pipe(parser);
  });
}

async function readUrlEncoded(req: IncomingMessage, limits: FormLimits): Promise<ParsedForm> {
  const maxBytes = textFileMaxBytes(limits) + limits.fields * limits.fieldBytes;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) {
    req.resume();
    throw tooLarge(declared, limits);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let overflow = false;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) overflow = true;
    if (!overflow) chunks.push(chunk);
  }
  if (overflow) throw tooLarge(size, limits);

  const collector = new FieldCollector(limits);
  let file: UploadedFile | undefined;
  for (const [name, value] of new URLSearchParams(Buffer.concat(chunks).toString('utf8'))) {
    if (name === 'file') {
      if (file) throw new HttpError(400, 'Only one file may be uploaded per request');
      file = { data: decodeTextFile(value, limits), filename: undefined };
    } else {
      collector.add(name, value);
    }
  }
  return { fields: collector.fields, file };
}

/** Base64 grows a file by a third, and a data: URI adds a short header. */
function textFileMaxBytes(limits: FormLimits): number {
  return Math.ceil(limits.fileBytes * 1.4) + 1024;
}

/** A `file` parameter given as text: a base64 data: URI or bare base64. */
function decodeTextFile(value: string, limits: FormLimits): Buffer {
  if (/^(https?|s3|gs|ftp):\/\//i.test(value)) {
    throw new HttpError(400, 'Remote file URLs are not supported by the local Cloudinary server; upload the bytes');
  }
  const dataUri = /^data:[\w.+-]+\/[\w.+-]+(?:;[\w-]+=[\w.+-]+)*;base64,/i.exec(value);
  // An unescaped `+` arrives as a space after form decoding; line breaks are just wrapping.
  const base64 = (dataUri ? value.slice(dataUri[0].length) : value).replaceAll(' ', '+').replace(/[\r\n\t]+/g, '');
  if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(base64)) throw new HttpError(400, 'Invalid image file');
  const data = Buffer.from(base64, 'base64');
  if (data.length > limits.fileBytes) throw tooLarge(data.length, limits);
  return data;
}
