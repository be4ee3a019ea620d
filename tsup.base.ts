import type { Options } from 'tsup';

/**
 * What every package's build shares: ESM with type declarations for Node 20. Dependencies and
 * peer dependencies of a package (such as @albumkit/core) stay external: tsup never bundles them.
 */
export const packageBuild: Options = {
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
};
