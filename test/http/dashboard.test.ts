/**
 * The dashboard as HTTP (no browser): the page and its hashed assets, their caching and
 * security headers, and that serving them changed nothing else — unknown paths are still the
 * JSON 404, and neither the throttle nor apicalls.log sees the page.
 */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { buildDashboard } from '../support/dashboard.js';
import { startService } from '../support/service.js';

let built: string;
beforeAll(async () => {
  built = mkdtempSync(join(tmpdir(), 'dashboard-build-'));
  await buildDashboard(built);
}, 60_000);

/** Every <script> tag of a page, with its attributes and content. */
function scriptsOf(html: string): { attributes: string; content: string }[] {
  return [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)].map(([, attributes, content]) => ({ attributes: attributes!, content: content! }));
}

describe('GET / and /assets/* (the dashboard)', () => {
  it('when / is asked, then the page is HTML, revalidated on each visit, with a CSP that allows only the service itself and no inline script', async () => {
    const service = await startService('sqlite', {}, undefined, { dashboardDir: built });
    const answer = await service.app.inject({ method: 'GET', url: '/' });
    expect(answer.statusCode).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/html/);
    expect(answer.headers['cache-control']).toBe('no-cache');
    const csp = String(answer.headers['content-security-policy']);
    expect(csp.split(';')).toEqual(
      expect.arrayContaining(["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "img-src 'self'", "script-src-attr 'none'"]),
    );
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https:|data:/);
    // helmet's other headers, as on every answer.
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['x-frame-options']).toBe('SAMEORIGIN');
    // The page's links (/docs, and any a browser follows) carry no Referer: nothing of the page leaks by it.
    expect(answer.headers['referrer-policy']).toBe('no-referrer');

    const scripts = scriptsOf(answer.body);
    expect(scripts.length).toBeGreaterThan(0);
    for (const script of scripts) {
      expect(script.content.trim()).toBe('');
      expect(script.attributes).toMatch(/\bsrc="\/assets\/[^"]+-[A-Za-z0-9_-]{8}\.js"/);
    }
    expect(answer.body).not.toMatch(/\son[a-z]+=/i); // no inline handlers either
    expect(answer.body).not.toMatch(/(src|href)="(https?:)?\/\//); // nothing from another origin

    const head = await service.app.inject({ method: 'HEAD', url: '/' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-security-policy']).toBe(answer.headers['content-security-policy']);
  });

  it('when a hashed asset is asked, then it is served immutable for a year; an unknown one is the JSON 404', async () => {
    const service = await startService('sqlite', {}, undefined, { dashboardDir: built });
    const assets = readdirSync(join(built, 'assets'));
    const script = assets.find((name) => name.endsWith('.js'))!;
    const style = assets.find((name) => name.endsWith('.css'))!;
    for (const [name, type] of [[script, /^application\/javascript|^text\/javascript/], [style, /^text\/css/]] as const) {
      const answer = await service.app.inject({ method: 'GET', url: `/assets/${name}` });
      expect(answer.statusCode).toBe(200);
      expect(answer.headers['content-type']).toMatch(type);
      expect(answer.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(answer.headers['x-content-type-options']).toBe('nosniff');
      expect(answer.body).toBe(readFileSync(join(built, 'assets', name), 'utf8'));
    }
    for (const url of ['/assets/index-nope.js', '/assets/', '/assets/../index.html', '/index.html']) {
      const answer = await service.app.inject({ method: 'GET', url });
      expect(answer.statusCode, url).toBe(404);
      expect(answer.json(), url).toEqual({ detail: 'Not found.' });
    }
  });

  it('when any other path is asked, then it is still the JSON 404: no page served in its place', async () => {
    const service = await startService('sqlite', {}, undefined, { dashboardDir: built });
    for (const url of ['/nonexistent', '/market', '/dashboard/', '/api']) {
      const answer = await service.app.inject({ method: 'GET', url });
      expect(answer.statusCode, url).toBe(404);
      expect(answer.headers['content-type'], url).toMatch(/^application\/json/);
      expect(answer.json(), url).toEqual({ detail: 'Not found.' });
    }
    const post = await service.app.inject({ method: 'POST', url: '/' });
    expect(post.statusCode).toBe(405);
    expect(post.headers.allow).toBe('GET');
  });

  it('when the page is loaded many times, then neither the throttle nor apicalls.log counts it', async () => {
    const log = join(inject('sqliteDir'), `apicalls-dashboard-${Date.now()}.log`);
    const service = await startService('sqlite', { THROTTLE_ANON: '2/day', APICALLS_LOG: log }, undefined, { dashboardDir: built });
    const script = readdirSync(join(built, 'assets')).find((name) => name.endsWith('.js'))!;
    for (let i = 0; i < 5; i++) {
      expect((await service.app.inject({ method: 'GET', url: '/' })).statusCode).toBe(200);
      expect((await service.app.inject({ method: 'GET', url: `/assets/${script}` })).statusCode).toBe(200);
    }
    const page = await service.app.inject({ method: 'GET', url: '/' });
    expect(page.headers['ratelimit']).toBeUndefined();
    // The API's allowance is untouched: both anonymous requests are still there.
    expect((await service.app.inject({ method: 'GET', url: '/api/v1/' })).statusCode).toBe(200);
    expect((await service.app.inject({ method: 'GET', url: '/api/v1/' })).statusCode).toBe(200);
    expect((await service.app.inject({ method: 'GET', url: '/api/v1/' })).statusCode).toBe(429);
    await service.close();
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.every((line) => line.includes(' GET /api/v1/ '))).toBe(true);
  });

  it('when odd paths are asked (a query, doubled slashes, dot segments, encoded ones, NUL, 20 KB), then each is the page or a JSON 4xx, never a file outside dist/web, never a 5xx', async () => {
    const service = await startService('sqlite', {}, undefined, { dashboardDir: built });
    const page = readFileSync(join(built, 'index.html'), 'utf8');
    for (const url of ['/?x=1', '/?key=%3Cscript%3E']) {
      const answer = await service.app.inject({ method: 'GET', url });
      expect(answer.statusCode, url).toBe(200);
      expect(answer.body, url).toBe(page);
    }
    const escapes = [
      '/index.html',
      '/assets/../package.json',
      '/assets/%2e%2e/package.json',
      '/assets/%2e%2e%2fpackage.json',
      '/assets/..%2f..%2fpackage.json',
      '/assets/..%5c..%5cpackage.json',
      '/assets/%2e%2e/index.html',
      '/assets/%2fetc%2fpasswd',
      '/assets//etc/passwd',
      '/assets/.vite/manifest.json',
      '/%2e%2e/package.json',
      '/assets/%00',
      '/assets/a%00.js',
      '/%00',
      '/assets/%',
      `/assets/${'a'.repeat(20_000)}.js`,
      `/${'a'.repeat(20_000)}`,
    ];
    for (const url of escapes) {
      for (const method of ['GET', 'HEAD'] as const) {
        const answer = await service.app.inject({ method, url });
        expect(answer.statusCode, `${method} ${url.slice(0, 60)}`).toBeGreaterThanOrEqual(400);
        expect(answer.statusCode, `${method} ${url.slice(0, 60)}`).toBeLessThan(500);
        if (method === 'GET') {
          expect(answer.headers['content-type'], url.slice(0, 60)).toMatch(/^application\/json/);
          expect(answer.body, url.slice(0, 60)).not.toContain('"name": "stock-market-service"');
        }
      }
    }
  });

  it('when the dashboard was never built, then / says to run npm run build (404, JSON), never a 5xx', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'dashboard-missing-'));
    const service = await startService('sqlite', {}, undefined, { dashboardDir: join(empty, 'web') });
    const answer = await service.app.inject({ method: 'GET', url: '/' });
    expect(answer.statusCode).toBe(404);
    expect(answer.json()).toEqual({ detail: expect.stringContaining('npm run build') });
    expect((await service.app.inject({ method: 'HEAD', url: '/' })).statusCode).toBe(404);
    const asset = await service.app.inject({ method: 'GET', url: '/assets/index-abcdefgh.js' });
    expect(asset.statusCode).toBe(404);
    expect(asset.json()).toEqual({ detail: 'Not found.' });
  });
});
