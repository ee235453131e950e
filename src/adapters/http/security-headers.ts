/**
 * helmet's default headers, computed once. helmet is a chain of a dozen
 * middlewares, each setting one header on the raw response; run per request
 * it cost more than a whole cheap route's handler in a profile. Its defaults
 * depend on nothing in the request (no CSP nonce), so the headers it sets are
 * read off once and handed to each reply as they are.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet, { type HelmetOptions } from 'helmet';

export type HeaderSet = Record<string, string>;

/** What helmet's defaults (or `options`) set on a response, lower-cased names (as Fastify keeps them). */
export function helmetHeaders(options?: HelmetOptions): HeaderSet {
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
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    failed = error;
  });
  if (failed) throw failed;
  return headers;
}

/**
 * The dashboard page's policy (GET /): narrower than helmet's default, as the page is ours and
 * needs little — its scripts, stylesheet and icon from the service (script-src, style-src,
 * img-src 'self'), its API calls to the service (connect-src 'self'), nothing else (default-src
 * 'none': no fonts, frames, objects, workers, and no `https:` or 'unsafe-inline' styles). Styles
 * set from script (element.style, as uPlot and Preact do) are not inline styles to CSP.
 * No `upgrade-insecure-requests`, for the reason /docs drops it (openapi.ts): over plain http by
 * name, it would send the page's own assets to https:// and show nothing.
 */
export function dashboardContentSecurityPolicy(): string {
  const headers = helmetHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'none'"],
        'script-src': ["'self'"],
        'script-src-attr': ["'none'"],
        'style-src': ["'self'"],
        'img-src': ["'self'"],
        'connect-src': ["'self'"],
        'base-uri': ["'none'"],
        'form-action': ["'self'"],
        'frame-ancestors': ["'self'"],
      },
    },
  });
  return headers['content-security-policy']!;
}
