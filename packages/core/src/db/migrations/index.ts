import type { Migration } from 'kysely';
import * as initial from './0001_initial.js';
import * as webhooks from './0002_webhooks.js';
import * as albumImageCounts from './0003_album_image_counts.js';
import * as notifications from './0004_notifications.js';
import * as imageChanges from './0005_image_changes.js';
import * as imageOrder from './0006_image_order.js';
import * as uploadOwner from './0007_upload_owner.js';
import * as integrator from './0008_integrator.js';
import * as trash from './0009_trash.js';
import * as assetDestroys from './0010_asset_destroys.js';
import * as clipboards from './0011_clipboards.js';
import * as tags from './0012_tags.js';
import * as searchIndexes from './0013_search_indexes.js';
import * as searchStatistics from './0014_search_statistics.js';
import * as searchOrganizationIndexes from './0015_search_organization_indexes.js';
import * as imageExternalUrls from './0018_image_external_urls.js';
import * as imports from './0019_imports.js';
import * as downloads from './0020_downloads.js';
import * as deadLetters from './0021_dead_letters.js';

/** Every migration, in order. Names never change once released. */
export const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_webhooks': webhooks,
  '0003_album_image_counts': albumImageCounts,
  '0004_notifications': notifications,
  '0005_image_changes': imageChanges,
  '0006_image_order': imageOrder,
  '0007_upload_owner': uploadOwner,
  '0008_integrator': integrator,
  '0009_trash': trash,
  '0010_asset_destroys': assetDestroys,
  '0011_clipboards': clipboards,
  '0012_tags': tags,
  '0013_search_indexes': searchIndexes,
  '0014_search_statistics': searchStatistics,
  '0015_search_organization_indexes': searchOrganizationIndexes,
  '0018_image_external_urls': imageExternalUrls,
  '0019_imports': imports,
  '0020_downloads': downloads,
  '0021_dead_letters': deadLetters,
};
