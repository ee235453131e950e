/**
 * helmet's default headers, computed once. helmet is a chain of a dozen
 * middlewares, each setting one header on the raw response; run per request
 * it cost more than a whole cheap route's handler in a profile. Its defaults
 * depend on nothing in the request (no CSP nonce), so the headers it sets are
 * read off once and handed to each reply as they are.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

export type HeaderSet = Record<string, string>;

/** What helmet's defaults set on a response, lower-cased names (as Fastify keeps them). */
export function helmetHeaders(): HeaderSet {
  const headers: HeaderSet = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    // X-Powered-By: helmet removes it; neither Node nor Fastify sets it.
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let failed: unknown;
  helmet()({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    failed = error;
  });
  if (failed) throw failed;
  return headers;
}
