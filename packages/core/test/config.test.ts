import { describe, expect, it } from 'vitest';
import { configFromEnv, parseCloudinaryUrl, parseConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

const env = {
  ALBUMKIT_SECRET: 'a-long-enough-secret',
  CLOUDINARY_URL: 'cloudinary://123:abc@demo?upload_prefix=http://127.0.0.1:9400&delivery_prefix=http://127.0.0.1:9400',
};

describe('configuration', () => {
  it('reads the environment into one typed object', () => {
    const { config, port, redisUrl } = configFromEnv({ ...env, PORT: '4000', DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://127.0.0.1:6379' });
    expect(port).toBe(4000);
    expect(redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.databaseUrl).toBe('postgres://u@h/db');
    expect(config.cloudinary).toEqual({ cloudName: 'demo', apiKey: '123', apiSecret: 'abc', uploadPrefix: 'http://127.0.0.1:9400', deliveryPrefix: 'http://127.0.0.1:9400' });
    expect(config.publicUrl).toBe('http://localhost:4000/api/v1');
    expect(config.limits.bodyBytes).toBe(1024 * 1024);
  });

  it('uses embedded PGlite under .data/ when there is no DATABASE_URL', () => {
    const { config } = configFromEnv(env);
    expect(config.databaseUrl).toBeUndefined();
    expect(config.dataDir).toBe('.data/pglite');
  });

  it.each([
    [{ ...env, ALBUMKIT_SECRET: undefined }, 'ALBUMKIT_SECRET'],
    [{ ...env, ALBUMKIT_SECRET: 'short' }, 'ALBUMKIT_SECRET'],
    [{ ...env, CLOUDINARY_URL: undefined }, 'CLOUDINARY_URL'],
    [{ ...env, CLOUDINARY_URL: 'https://x' }, 'CLOUDINARY_URL'],
    [{ ...env, PORT: 'eighty' }, 'PORT'],
    [{ ...env, DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ ...env, REDIS_URL: 'http://x' }, 'REDIS_URL'],
    [{ ...env, ALBUMKIT_PUBLIC_URL: 'not a url' }, 'ALBUMKIT_PUBLIC_URL'],
  ])('fails at start-up naming the variable that is wrong (%#)', (values, name) => {
    expect(() => configFromEnv(values)).toThrow(ConfigError);
    expect(() => configFromEnv(values)).toThrow(name);
  });

  it('names every wrong setting of a programmatic configuration', () => {
    expect(() => parseConfig({ secret: 'x', cloudinary: { cloudName: '', apiKey: 'k', apiSecret: 's' }, publicUrl: 'nope' })).toThrow(
      /secret[\s\S]*cloudinary\.cloudName[\s\S]*publicUrl/,
    );
  });

  it('parses CLOUDINARY_URL like the Cloudinary SDKs', () => {
    expect(parseCloudinaryUrl('cloudinary://key:s%2Fecret@my-cloud')).toEqual({ cloudName: 'my-cloud', apiKey: 'key', apiSecret: 's/ecret' });
  });
});
