import { z } from 'zod';
import type { AnyRoute, FieldsSchema } from './route.js';
import { errorSchema } from './schemas.js';

/**
 * The OpenAPI 3.1 document of the API, generated from the route definitions the handler runs:
 * paths, parameters, bodies and responses come from the same zod schemas that validate requests
 * (JSON Schema 2020-12 through zod's own converter). Schemas with an id (`.meta({id})`) become
 * `components.schemas`.
 */

type JsonSchema = Record<string, unknown>;

export interface OpenApiOptions {
  title?: string;
  version: string;
  /** The API's public URL, e.g. `https://host.example/api/v1`. */
  serverUrl: string;
}

const COMPONENTS = '#/components/schemas/';

/** JSON Schema of a zod schema; named sub-schemas are moved into `components`. */
function convert(schema: z.ZodType, io: 'input' | 'output', components: Record<string, JsonSchema>): JsonSchema {
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  const defs = (json.$defs ?? {}) as Record<string, JsonSchema>;
  delete json.$defs;
  delete json.$schema;
  for (const [name, def] of Object.entries(defs)) components[name] ??= relink(def) as JsonSchema;
  // A named schema at the top is a reference too.
  const id = (z.globalRegistry.get(schema) as { id?: string } | undefined)?.id;
  if (id) {
    delete json.id;
    components[id] ??= relink(json) as JsonSchema;
    return { $ref: COMPONENTS + id };
  }
  return relink(json) as JsonSchema;
}

function relink(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(relink);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    if (key === '$ref' && typeof item === 'string' && item.startsWith('#/$defs/')) out[key] = COMPONENTS + item.slice('#/$defs/'.length);
    else if (key === 'id' && typeof item === 'string') continue;
    else out[key] = relink(item);
  }
  return out;
}

/** `/albums/:id` → `/albums/{id}`. */
export function openApiPath(path: string): string {
  return path.replace(/:(\w+)/g, '{$1}');
}

function parameters(schema: FieldsSchema | undefined, where: 'path' | 'query', components: Record<string, JsonSchema>): JsonSchema[] {
  if (!schema) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, field]) => {
    const json = convert(field, 'input', components);
    const description = typeof json.description === 'string' ? json.description : undefined;
    delete json.description;
    const isArray = json.type === 'array' || (Array.isArray(json.anyOf) && (json.anyOf as JsonSchema[]).some((s) => s.type === 'array'));
    return {
      // Lists follow Rails' convention: `ids[]=a&ids[]=b`.
      name: isArray && where === 'query' ? `${name}[]` : name,
      in: where,
      required: where === 'path' || !field.safeParse(undefined).success,
      ...(description ? { description } : {}),
      schema: json,
    };
  });
}

const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: COMPONENTS + 'Error' } } } });

export function openApiDocument(routes: AnyRoute[], options: OpenApiOptions): JsonSchema {
  const components: Record<string, JsonSchema> = {};
  convert(errorSchema, 'output', components);
  const paths: Record<string, Record<string, JsonSchema>> = {};
  const tags = new Set<string>();
  for (const route of routes) {
    tags.add(route.tag);
    const responses: Record<string, JsonSchema> = {};
    for (const [status, spec] of Object.entries(route.responses)) {
      const response: JsonSchema = { description: spec.description };
      if (spec.schema) response.content = { 'application/json': { schema: convert(spec.schema, 'output', components) } };
      else if (spec.contentType) response.content = { [spec.contentType]: { schema: { type: 'string', maxLength: 0 } } };
      if (spec.headers) {
        response.headers = Object.fromEntries(Object.entries(spec.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]));
      }
      if (!spec.schema && !spec.contentType && Number(status) >= 400) Object.assign(response, errorResponse(spec.description));
      responses[status] = response;
    }
    if (route.params || route.query || route.body) responses['400'] ??= errorResponse('A request the schemas refuse; `message` names the field');
    if (route.body) {
      responses['413'] ??= errorResponse('Body too large');
      responses['415'] ??= errorResponse('Unsupported content type');
    }
    responses['503'] ??= { ...errorResponse('A dependency (database, queue) is unavailable; retry after `Retry-After` seconds'), headers: { 'Retry-After': { schema: { type: 'string' } } } };
    const operation: JsonSchema = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [route.tag],
      parameters: [...parameters(route.params, 'path', components), ...parameters(route.query, 'query', components)],
      responses,
    };
    if (route.body) {
      const schema = convert(route.body, 'input', components);
      const types = route.bodyTypes ?? ['application/x-www-form-urlencoded', 'application/json'];
      operation.requestBody = { required: route.bodyValidation !== 'describe' && !route.body.safeParse({}).success, content: Object.fromEntries(types.map((type) => [type, { schema }])) };
    }
    operation.security = route.auth === 'token' ? [{ token: [] }, { bearer: [] }] : [];
    (paths[openApiPath(route.path)] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: options.title ?? 'albumkit API',
      version: options.version,
      description:
        'The album/image API albumkit serves. Responses carry `X-token`, the caller\'s token renewed. Form bodies use Rails-style nested keys (`a[b]=1`, `ids[]=x`).',
    },
    servers: [{ url: options.serverUrl }],
    tags: [...tags].map((name) => ({ name })),
    paths,
    components: {
      schemas: components,
      securitySchemes: {
        token: { type: 'apiKey', in: 'header', name: 'Authorization', description: '`Token token="<jwt>"`' },
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      },
    },
  };
}
