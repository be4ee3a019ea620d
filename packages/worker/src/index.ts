export { BullMqJobs, type BullMqJobsOptions, type QueueCounts } from './bullmq-jobs.js';
export { startWorker, DEFAULT_CONCURRENCY, type WorkerOptions, type RunningWorker } from './worker.js';
export { inProcessJobs } from './in-process.js';
export { replayDeadLetters, recordFailedJobs, type ReplayOptions, type ReplayReport } from './dead-letters.js';
export { createProcessors, importOptionsFromEnv, type ProcessorOptions } from './processors.js';
export { fetchRemoteFile, DEFAULT_REMOTE_FILE_POLICY, type RemoteFilePolicy } from './imports/fetch.js';
export { isPublicAddress } from '@albumkit/core';
export { queueName, DEFAULT_RETRY, type RetryPolicy } from './queues.js';
export * from './metadata/index.js';
