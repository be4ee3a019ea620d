import { InProcessJobs, observedProcessors, type Albumkit, type InProcessJobsOptions } from '@albumkit/core';
import { createProcessors, type ProcessorOptions } from './processors.js';

/**
 * The embedded default (no Redis): every processor, metadata included, runs in this process.
 * Pass as `createAlbumkit({ ..., jobs: (albumkit) => inProcessJobs(albumkit) })`.
 */
export function inProcessJobs(albumkit: Albumkit, options: ProcessorOptions & InProcessJobsOptions = {}): InProcessJobs {
  // Each run is measured (`albumkit.telemetry`, queue label: the job name).
  return new InProcessJobs(observedProcessors(createProcessors(albumkit, { importAttempts: options.attempts ?? 5, ...options }), albumkit.telemetry), options);
}
