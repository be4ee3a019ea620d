/**
 * The placeholder image albumkit serves at the path of `placeholderPrefix` (`/assets/blank.jpg`):
 * the thumbnails of an image not processed yet are `<placeholder>#<rendition URL>`, so what a
 * browser loads until then is this, a white pixel (a real JPEG, 267 bytes, made with sharp).
 */
export const BLANK_JPEG: Uint8Array = Buffer.from(
  '/9j/2wBDABALDA4MChAODQ4SERATGCgaGBYWGDEjJR0oOjM9PDkzODdASFxOQERXRTc4UG1RV19iZ2hnPk1xeXBkeFxlZ2P/2wBDARESEhgVGC8aGi9jQjhCY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2NjY2P/wAARCAABAAEDASIAAhEBAxEB/8QAFQABAQAAAAAAAAAAAAAAAAAAAAf/xAAUEAEAAAAAAAAAAAAAAAAAAAAA/8QAFAEBAAAAAAAAAAAAAAAAAAAAAP/EABQRAQAAAAAAAAAAAAAAAAAAAAD/2gAMAwEAAhEDEQA/AKAAD//Z',
  'base64',
);

/**
 * What an external URL (`/image_external_urls/:id`) leads to once its image is trashed or
 * purged (`/assets/deleted.jpg`): a grey 64 × 64 square with a cross (517 bytes, made with sharp).
 */
export const DELETED_JPEG: Uint8Array = Buffer.from(
  '/9j/2wBDAAoHBwgHBgoICAgLCgoLDhgQDg0NDh0VFhEYIx8lJCIfIiEmKzcvJik0KSEiMEExNDk7Pj4+JS5ESUM8SDc9Pjv/2wBDAQoLCw4NDhwQEBw7KCIoOzs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozs7Ozv/wAARCABAAEADASIAAhEBAxEB/8QAGAABAQEBAQAAAAAAAAAAAAAAAAYEBQf/xAAiEAACAgEEAgMBAAAAAAAAAAAAAQIEAwURMTIkURJxkkL/xAAUAQEAAAAAAAAAAAAAAAAAAAAA/8QAFBEBAAAAAAAAAAAAAAAAAAAAAP/aAAwDAQACEQMRAD8A9RAAAAAAAAAAAAATV+/qFLVZylOSh8t4QfVx+juUruK9gWTG9mu0XzFi7SxXsDx5Fs/5kuYsmfK0a96kvzNAU127io4HkyPdvrFcyZw6N+/d1WEozk4OW84Lqo/Rl8rWb3uT/MEU1Klio4FjxrdvtJ8yYGkAAAABmu3cVHA8mR7v+YrmTJnytZve5P8AMEar9DULuqzjKEnD5bQm+qj9ncpUsVHAseNbt9pPmTAmfK0a96kvzNFNSu4r2BZMb2a7RfMWLtLFewPHkWzXWS5izh0aF+lqsIxhJQUtpzXVx+wKUAAAAAAAAAAAAB//2Q==',
  'base64',
);
