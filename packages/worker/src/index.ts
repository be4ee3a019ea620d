export { BullMqJobs, type BullMqJobsOptions, type QueueCounts } from './bullmq-jobs.js';
export { startWorker, type WorkerOptions, type RunningWorker } from './worker.js';
export { inProcessJobs } from './in-process.js';
export { createProcessors, type ProcessorOptions } from './processors.js';
export { queueName, DEFAULT_RETRY, type RetryPolicy } from './queues.js';
export * from './metadata/index.js';
