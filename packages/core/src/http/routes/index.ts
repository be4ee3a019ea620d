import type { AnyRoute } from '../route.js';
import { albumRoutes } from './albums.js';
import { clipboardRoutes } from './clipboards.js';
import { deliveryRoutes } from './delivery.js';
import { cloudinaryRoutes } from './cloudinary.js';
import type { RouteDeps } from './common.js';
import { imageLinkRoutes } from './image-links.js';
import { imageRoutes } from './images.js';
import { importRoutes } from './imports.js';
import { downloadRoutes } from './downloads.js';
import { integratorRoutes } from './integrator.js';
import { searchRoutes } from './search.js';
import { tagRoutes } from './tags.js';
import { trashRoutes } from './trash.js';

export type { RouteDeps } from './common.js';

/**
 * Every route of the API, each with the schemas it is validated and described with: one module
 * per resource, as the services are split, so a route, its service and its repository are found
 * by name.
 */
export function apiRoutes(deps: RouteDeps): AnyRoute[] {
  return [...albumRoutes(deps), ...imageRoutes(deps), ...trashRoutes(deps), ...clipboardRoutes(deps), ...tagRoutes(deps), ...searchRoutes(deps), ...cloudinaryRoutes(deps), ...integratorRoutes(deps), ...deliveryRoutes(deps), ...imageLinkRoutes(deps), ...importRoutes(deps), ...downloadRoutes(deps)];
}
