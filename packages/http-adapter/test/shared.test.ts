import qs from 'qs';
import { describe, expect, it } from 'vitest';
import { bodyFromHost, encodeForm } from '../src/shared/body.js';
import { addCorsHeaders, preflightHeaders } from '../src/shared/cors.js';
import { normalizePrefix, resolveSettings, stripPrefix } from '../src/shared/options.js';
import { createPipeline } from '../src/shared/pipeline.js';

const parse = (text: string) => qs.parse(text, { depth: 12, strictDepth: true });

describe('encodeForm', () => {
  const form = 'cloudinary[public_id]=a%20b&cloudinary[tags][]=t1&cloudinary[tags][]=t2&cloudinary[image_metadata][X]=1%3A2&metadatas[k]=v&x=%26%3D';

  it('re-encodes a nested (qs, extended) result into an equivalent Rails-style form', () => {
    expect(parse(encodeForm(parse(form) as Record<string, unknown>))).toEqual(parse(form));
  });

  it('re-encodes a flat (extended: false) result into an equivalent form', () => {
    const flat: Record<string, unknown> = {};
    for (const [k, v] of new URLSearchParams(form)) {
      const previous = flat[k];
      flat[k] = previous === undefined ? v : ([] as string[]).concat(previous as string, v);
    }
    expect(parse(encodeForm(flat))).toEqual(parse(form));
  });

  it('keeps lists of objects indexed', () => {
    const value = { a: [{ b: '1' }, { b: '2' }] };
    expect(parse(encodeForm(value))).toEqual(value);
  });
});

describe('bodyFromHost', () => {
  it('prefers the bytes a host kept', () => {
    expect(bodyFromHost(Buffer.from('{"a" : 1}'), { a: 1 }, 'application/json')).toEqual(Buffer.from('{"a" : 1}'));
  });

  it('re-serializes JSON, and cuts absurd nesting without overflowing the stack', () => {
    expect(bodyFromHost(undefined, { a: [1, 'x'] }, 'application/json; charset=utf-8')).toBe('{"a":[1,"x"]}');
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    const text = bodyFromHost(undefined, deep, 'application/json') as string;
    // 66 levels, the last one emptied.
    expect(text.split('{').length - 1).toBe(67);
    expect(text).toContain('{"a":{}}');
  });

  it('refuses what some other parser consumed', () => {
    expect(() => bodyFromHost(undefined, { file: {} }, 'multipart/form-data; boundary=x')).toThrow(/not supported/);
  });
});

describe('prefixes', () => {
  it('normalizes and strips', () => {
    expect(normalizePrefix('api/v1/')).toBe('/api/v1');
    expect(normalizePrefix('/')).toBe('');
    expect(stripPrefix('/api/v1/albums?x=1', '/api/v1')).toBe('/albums?x=1');
    expect(stripPrefix('/api/v1?x=1', '/api/v1')).toBe('/?x=1');
    expect(stripPrefix('/api/v1', '/api/v1')).toBe('/');
    expect(stripPrefix('/api/v10/albums', '/api/v1')).toBeUndefined();
    expect(stripPrefix('/other', '/api/v1')).toBeUndefined();
  });
});

describe('cors', () => {
  it("answers '*' without Vary, and echoes the origin with credentials", () => {
    expect(preflightHeaders({ origins: '*' }, { origin: 'https://a.test' })['Access-Control-Allow-Origin']).toBe('*');
    const withCredentials = preflightHeaders({ origins: '*', credentials: true }, { origin: 'https://a.test' });
    expect(withCredentials['Access-Control-Allow-Origin']).toBe('https://a.test');
    expect(withCredentials['Access-Control-Allow-Credentials']).toBe('true');
    expect(withCredentials.Vary).toBe('Origin');
  });

  it('does not add Origin to Vary twice', () => {
    const headers: Record<string, string> = { Vary: 'Origin' };
    addCorsHeaders({ origins: ['https://a.test'] }, { origin: 'https://a.test' }, headers);
    expect(headers.Vary).toBe('Origin');
  });
});

describe('pipeline', () => {
  it('turns an adapter failure into a logged 500 with a request id', async () => {
    const logged: unknown[] = [];
    const run = createPipeline(
      resolveSettings(
        async () => {
          throw new Error('boom');
        },
        { logger: { error: (o) => logged.push(o) } },
      ),
    );
    const response = await run({ method: 'GET', path: '/x', headers: { 'x-request-id': 'abc' }, body: () => undefined });
    expect(response!.status).toBe(500);
    expect(JSON.parse(response!.body)).toEqual({ error: 'internal_error', message: 'Internal error', request_id: 'abc' });
    expect(response!.headers['X-Request-Id']).toBe('abc');
    expect(logged).toHaveLength(1);
  });

  it('rejects bad settings early', () => {
    expect(() => resolveSettings({} as never)).toThrow(TypeError);
    expect(() => resolveSettings(async () => ({ status: 200, headers: {}, body: '' }), { bodyLimit: -1 })).toThrow(TypeError);
  });
});

describe('albumkitFetch', () => {
  it('hands the core the path and query of the request, without prefix or fragment', async () => {
    const { albumkitFetch } = await import('../src/fetch.js');
    const seen: string[] = [];
    const handler = albumkitFetch(
      async (request) => {
        seen.push(request.path);
        return { status: 200, headers: { 'Content-Type': 'application/json; charset=utf-8' }, body: '{}' };
      },
      { prefix: '/api/v1' },
    );
    for (const url of ['http://h/api/v1/albums/A?x=1#frag', 'http://h/api/v1/albums/B#a?b', 'http://h:8080/api/v1/images/%41?q=%23']) {
      expect((await handler(new Request(url))).status).toBe(200);
    }
    expect(seen).toEqual(['/albums/A?x=1', '/albums/B', '/images/%41?q=%23']);
  });
});
