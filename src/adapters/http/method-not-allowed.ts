import type { FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import type { ErrorBody } from './errors.js';

/** The methods a path is answered for; the order is the order of `Allow`. */
const METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/**
 * Registers `routes`, then answers every method their paths do not serve with
 * 405, `Allow` and DRF's wording — derived from the routes as declared, so a
 * new route needs no list kept beside it. HEAD is served wherever GET is
 * (Fastify adds it). OPTIONS is refused too unless `refuseOptions` is false
 * (CORS on: its plugin answers preflights). The refusal is decided in
 * onRequest, before the body is read, so a 405 wins over 413/415; hooks of the
 * enclosing scope (authentication, throttling) run first.
 */
export function refusingOtherMethods(routes: FastifyPluginAsync, options: { refuseOptions: boolean }): FastifyPluginAsync {
  return async (scope) => {
    const served = new Map<string, Set<HTTPMethods>>();
    scope.addHook('onRoute', (route) => {
      const path = route.url.slice(scope.prefix.length); // as the 405 route will be declared here
      const methods = served.get(path) ?? new Set<HTTPMethods>();
      for (const method of [route.method].flat()) methods.add(method as HTTPMethods);
      served.set(path, methods);
    });
    await scope.register(routes);
    for (const [path, methods] of [...served]) refuse(scope, path, new Set(methods), options.refuseOptions);
  };
}

function refuse(scope: FastifyInstance, path: string, served: Set<HTTPMethods>, refuseOptions: boolean): void {
  const refused = METHODS.filter((method) => !served.has(method) && (method !== 'OPTIONS' || refuseOptions));
  const allow = METHODS.filter((method) => served.has(method) && method !== 'HEAD').join(', ');
  if (refused.length === 0) return;
  scope.route({
    method: refused,
    url: path,
    schema: { hide: true }, // the OpenAPI document lists what a path serves, not what it refuses
    onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
      await reply
        .code(405)
        .header('allow', allow)
        .send({ detail: `Method "${request.method}" not allowed.` } satisfies ErrorBody);
    },
    handler: async () => undefined,
  });
}
