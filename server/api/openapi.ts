/**
 * The OpenAPI 3.1 document, assembled from the route table and the schemas (JSON Schema
 * 2020-12 is OpenAPI 3.1's schema dialect; our schemas use only keywords it shares).
 */
import { defaultProtocol, protocolHeader, supportedProtocols } from './protocol.js';
import type { RouteSpec } from './route-spec.js';

const protocolParameter = {
  name: protocolHeader,
  in: 'header',
  required: false,
  description: `Agent protocol version; absent means ${defaultProtocol}. Any other version than ${supportedProtocols.join(', ')} is refused with 400 UNSUPPORTED_PROTOCOL.`,
  schema: { type: 'string', pattern: '^[1-9][0-9]*$' },
};

const securitySchemes = {
  operatorToken: { type: 'http', scheme: 'bearer', description: 'An operator token (admin or readonly). The admin token is created at first start in <data-dir>/admin-token.' },
  agentSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Stead-Signature',
    description: 'Ed25519 signature of "<METHOD>\\n<path with query>\\n<X-Stead-Host>\\n<X-Stead-Time>\\n<X-Stead-Nonce>\\n<sha256 hex of the body>" by the host\'s approved key; with X-Stead-Host, X-Stead-Time (unix ms, ±5 min), X-Stead-Nonce (≥16 chars, single use, also across restarts) and X-Stead-Body-Sha256 (the body hash: the signature is then checked before the body is read; without it the body is held within the server\'s budget for unauthenticated bodies, 503 SERVER_BUSY + Retry-After beyond).',
  },
};

export function buildOpenApi(routes: readonly RouteSpec[], version: string): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    // Schemas keep their $id URNs as documentation; OpenAPI 3.1 tools accept them.
    const params: Record<string, unknown>[] = [...r.path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    for (const [name, q] of Object.entries(r.query ?? {})) params.push({ name, in: 'query', required: false, description: q.description, schema: q.schema });
    // Agent routes (signed ones and enrollment) take the protocol version (protocol.ts).
    if (r.auth === 'agent' || r.auth === 'agent-any' || (r.auth === 'public' && r.tag === 'agents')) params.push(protocolParameter);
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${r.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
      'x-stead-auth': r.auth,
      security: r.auth === 'public' ? [] : r.auth === 'agent' || r.auth === 'agent-any' ? [{ agentSignature: [] }] : [{ operatorToken: [] }],
      ...(params.length > 0 ? { parameters: params } : {}),
      responses: Object.fromEntries(
        Object.entries(r.responses).map(([code, resp]) => [
          code,
          {
            description: resp.description,
            ...(resp.schema ? { content: { 'application/json': { schema: resp.schema } } } : resp.type ? { content: { [resp.type]: { schema: { type: 'string', format: 'binary' } } } } : {}),
          },
        ]),
      ),
    };
    if (r.body) {
      op['requestBody'] = {
        required: !r.body.optional,
        content: Object.fromEntries(r.body.types.map((t) => [t, { schema: t === 'application/json' && r.body!.schema ? r.body!.schema : { type: 'string', format: 'binary' } }])),
        'x-stead-max-bytes': r.body.limit,
      };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Stead server API', version, description: 'Manifest server: agent enrollment and catalogs, operator revisions, hosts and compliance. Errors are { error: { code, message, requestId, details? } }.' },
    servers: [{ url: '/' }],
    components: { securitySchemes },
    paths,
  };
}
