import { describe, expect, it } from 'vitest';
import { startService } from '../support/service.js';

describe('hardening', () => {
  it('when any answer is sent, then it carries the security headers', async () => {
    const { app } = await startService('sqlite');
    for (const url of ['/trades', '/api/v1/me/', '/nope']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers['strict-transport-security']).toMatch(/max-age=/);
      expect(response.headers['content-security-policy']).toBeDefined();
      expect(response.headers['x-powered-by']).toBeUndefined();
    }
  });

  it('when CORS_ORIGINS is unset, then no cross-origin access is granted', async () => {
    const { app } = await startService('sqlite');
    const response = await app.inject({ method: 'GET', url: '/trades', headers: { origin: 'https://evil.example' } });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('when CORS_ORIGINS lists an origin, then only that origin is granted, preflight included', async () => {
    const { app } = await startService('sqlite', { CORS_ORIGINS: 'https://app.example.com' });
    const allowed = await app.inject({ method: 'GET', url: '/trades', headers: { origin: 'https://app.example.com' } });
    expect(allowed.headers['access-control-allow-origin']).toBe('https://app.example.com');
    const other = await app.inject({ method: 'GET', url: '/trades', headers: { origin: 'https://evil.example' } });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
    const preflight = await app.inject({
      method: 'OPTIONS',
      url: '/api/v1/symbol/IBM/',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('https://app.example.com');
  });

  it('when the database fails under a request, then 500 says nothing internal', async () => {
    const { app, db } = await startService('sqlite');
    await db.destroy();
    const response = await app.inject({ method: 'GET', url: '/trades/1' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toEqual({ detail: 'Internal server error.' });
    const health = await app.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(503);
    expect(health.json()).toMatchObject({ status: 'down', database: 'unreachable' });
  });

  it('when a body is over the default 64 KiB limit, then 413 on every route that reads one', async () => {
    const { app } = await startService('sqlite', { BODY_LIMIT_BYTES: '' });
    const big = JSON.stringify({ name: 'x'.repeat(70 * 1024) });
    for (const url of ['/trades', '/api/v1/register/']) {
      const response = await app.inject({ method: 'POST', url, payload: big, headers: { 'content-type': 'application/json' } });
      expect(response.statusCode, url).toBe(413);
      expect(response.json()).toHaveProperty('detail');
    }
  });
});
