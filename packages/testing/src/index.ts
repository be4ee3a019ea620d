export { startLocalCloudinary } from './server.js';
export type { LocalCloudinary, LocalCloudinaryOptions } from './server.js';
export type { NotificationAttempt } from './notifications.js';
