#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startLocalCloudinary, type LocalCloudinaryOptions } from './server.js';

const USAGE = `Usage: albumkit-cloudinary [--port 9400] [--host 127.0.0.1] [--dir ./.data/cloudinary]
                           [--cloud demo] [--api-key KEY] [--api-secret SECRET]

A local Cloudinary-compatible server (signed uploads, notifications, signed delivery).
CLOUDINARY_URL=cloudinary://KEY:SECRET@CLOUD supplies defaults for the account options.`;

/** Account settings from `cloudinary://key:secret@cloud`, the form Cloudinary's SDKs read. */
function fromCloudinaryUrl(value: string | undefined): Partial<LocalCloudinaryOptions> {
  if (!value) return {};
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error('CLOUDINARY_URL is not a URL (expected cloudinary://key:secret@cloud)');
  }
  if (url.protocol !== 'cloudinary:') throw new Error('CLOUDINARY_URL must start with cloudinary://');
  return {
    ...(url.username ? { apiKey: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { apiSecret: decodeURIComponent(url.password) } : {}),
    ...(url.hostname ? { cloudName: url.hostname } : {}),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '9400' },
      host: { type: 'string', default: '127.0.0.1' },
      dir: { type: 'string', default: './.data/cloudinary' },
      cloud: { type: 'string' },
      'api-key': { type: 'string' },
      'api-secret': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`Invalid --port ${values.port}`);

  const options: LocalCloudinaryOptions = {
    ...fromCloudinaryUrl(process.env.CLOUDINARY_URL),
    port,
    host: values.host,
    dir: values.dir,
    ...(values.cloud ? { cloudName: values.cloud } : {}),
    ...(values['api-key'] ? { apiKey: values['api-key'] } : {}),
    ...(values['api-secret'] ? { apiSecret: values['api-secret'] } : {}),
  };
  const server = await startLocalCloudinary(options);
  console.log(`Local Cloudinary listening on ${server.url} (files in ${values.dir})`);
  console.log(`CLOUDINARY_URL=${server.cloudinaryUrl}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: shutting down`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: unknown) => {
  console.error(`albumkit-cloudinary: ${error instanceof Error ? error.message : String(error)}`);
  console.error(USAGE);
  process.exit(1);
});
