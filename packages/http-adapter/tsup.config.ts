import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    node: 'src/node.ts',
    express: 'src/express.ts',
    koa: 'src/koa.ts',
    fastify: 'src/fastify.ts',
    fetch: 'src/fetch.ts',
  },
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  // Never bundled: the core, and the frameworks (optional peers, only their types are used).
  external: ['@albumkit/core', 'express', 'koa', 'fastify'],
});
