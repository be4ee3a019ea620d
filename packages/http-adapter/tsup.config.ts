import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.base.js';

export default defineConfig({
  ...packageBuild,
  entry: {
    node: 'src/node.ts',
    express: 'src/express.ts',
    koa: 'src/koa.ts',
    fastify: 'src/fastify.ts',
    fetch: 'src/fetch.ts',
  },
  // The frameworks are optional peers used only for their types; listed so that none is ever bundled.
  external: ['@albumkit/core', 'express', 'koa', 'fastify'],
});
