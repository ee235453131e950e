/**
 * compose.yaml as `docker compose config` reads it (no Docker engine needed): it refuses to start
 * without its secrets, and what it starts restarts, drains, is checked on /ready, and is built once.
 * CI installs the compose CLI (.ci/run); elsewhere, without it, the file is skipped, saying so.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../../src/config.js';

/** `docker compose` (v2) where the plugin is there, else Debian's `docker-compose` (v1.29), else none. */
function findCompose(): string[] | undefined {
  const candidates = [
    ['docker', 'compose'],
    ['docker-compose'],
  ];
  return candidates.find(([command, ...args]) => spawnSync(command!, [...args, 'version'], { stdio: 'ignore' }).status === 0);
}

const compose = findCompose();
const SECRETS = { POSTGRES_PASSWORD: 'a'.repeat(64), METRICS_TOKEN: 'b'.repeat(64) };

if (!compose) {
  if (process.env.CI === 'true') throw new Error('CI=true but neither `docker compose` nor `docker-compose` is installed (.ci/run installs docker-compose)');
  console.warn('test/deploy/compose.test.ts skipped: neither `docker compose` nor `docker-compose` is installed (apt-get install docker-compose)');
}

/** `config` with exactly `env` (no .env file, nothing inherited but PATH and HOME): exit status and output. */
function composeConfig(env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const emptyEnvFile = join(mkdtempSync(join(tmpdir(), 'compose-env-')), '.env');
  writeFileSync(emptyEnvFile, '');
  const [command, ...args] = compose!;
  const result = spawnSync(command!, [...args, '--env-file', emptyEnvFile, '-f', 'compose.yaml', 'config'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

interface Service {
  image?: string;
  build?: unknown;
  restart?: string;
  ports?: unknown[];
  environment?: Record<string, string>;
  healthcheck?: { test?: string[] | string };
  stop_grace_period?: string;
  depends_on?: Record<string, { condition: string }>;
  logging?: { driver?: string; options?: Record<string, string> };
}

/** A compose duration (`35s`, `1m30s`, `1500ms`) in milliseconds. */
function durationMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  expect(parts.map((part) => part[0]).join(''), `duration ${text}`).toBe(text);
  return parts.reduce((sum, [, value, unit]) => sum + Number(value) * units[unit!]!, 0);
}

describe.skipIf(!compose)('compose.yaml', () => {
  it('when POSTGRES_PASSWORD is unset or empty, then it refuses, saying which variable to set', () => {
    for (const value of [undefined, '']) {
      const env: Record<string, string> = { METRICS_TOKEN: SECRETS.METRICS_TOKEN };
      if (value !== undefined) env.POSTGRES_PASSWORD = value;
      const result = composeConfig(env);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('set POSTGRES_PASSWORD');
    }
  });

  it('when METRICS_TOKEN is unset, then it refuses, so /metrics is never open', () => {
    const result = composeConfig({ POSTGRES_PASSWORD: SECRETS.POSTGRES_PASSWORD });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('set METRICS_TOKEN');
  });

  describe('with its secrets', () => {
    let read: Record<string, Service> | undefined;
    /** The file as compose reads it, read once (each `config` takes a second or two). */
    const services = (): Record<string, Service> => {
      if (read) return read;
      const result = composeConfig(SECRETS);
      expect(result.status, result.stderr).toBe(0);
      read = (parse(result.stdout) as { services: Record<string, Service> }).services;
      return read;
    };

    it('every long-running service restarts by itself; only the one-shot migration does not', () => {
      const all = services();
      const oneShots = new Set(
        Object.values(all).flatMap((service) =>
          Object.entries(service.depends_on ?? {})
            .filter(([, dependency]) => dependency.condition === 'service_completed_successfully')
            .map(([name]) => name),
        ),
      );
      expect([...oneShots]).toEqual(['migrate']);
      for (const [name, service] of Object.entries(all)) {
        if (oneShots.has(name)) expect(service.restart ?? 'no', name).toBe('no');
        else expect(['always', 'unless-stopped', 'on-failure'], name).toContain(service.restart?.replace(/:\d+$/, ''));
      }
    });

    it('the api is checked on /ready, and Docker waits longer than its drain deadline before killing it', () => {
      const api = services().api!;
      expect([api.healthcheck?.test].flat().join(' ')).toContain('/ready');
      expect(api.environment?.SHUTDOWN_TIMEOUT_MS).toBeUndefined();
      expect(durationMs(api.stop_grace_period ?? '10s')).toBeGreaterThan(DEFAULT_SHUTDOWN_TIMEOUT_MS);
      expect(api.depends_on).toMatchObject({
        migrate: { condition: 'service_completed_successfully' },
        postgres: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
      });
    });

    it('one image is built, once, and tagged; the migration runs that same image', () => {
      const all = services();
      const building = Object.entries(all).filter(([, service]) => service.build !== undefined);
      expect(building.map(([name]) => name)).toEqual(['api']);
      expect(all.api!.image).toMatch(/^stock-market-service:/);
      expect(all.migrate!.image).toBe(all.api!.image);
    });

    it('the api is reached only through the proxy, with its secrets set and its request log on stdout', () => {
      const all = services();
      const api = all.api!;
      expect(api.ports).toBeUndefined();
      expect(api.environment).toMatchObject({
        METRICS_TOKEN: SECRETS.METRICS_TOKEN,
        TRUST_PROXY: '1',
        APICALLS_LOG: '/dev/stdout',
        DATABASE_URL: `postgres://stock_market:${SECRETS.POSTGRES_PASSWORD}@postgres:5432/stock_market`,
      });
      expect(all.postgres!.ports).toBeUndefined();
      expect(all.redis!.ports).toBeUndefined();
      expect(all.proxy!.depends_on).toMatchObject({ api: { condition: 'service_healthy' } });
    });

    it("every service's output is rotated", () => {
      for (const [name, service] of Object.entries(services())) {
        expect(service.logging?.driver, name).toBe('json-file');
        expect(Object.keys(service.logging?.options ?? {}).sort(), name).toEqual(['max-file', 'max-size']);
      }
    });
  });
});

/** Caddy's own check of deploy/Caddyfile, where Caddy is installed (optional: CI does not install it). */
const caddy = spawnSync('caddy', ['version'], { stdio: 'ignore' }).status === 0;

describe.skipIf(!caddy)('deploy/Caddyfile', () => {
  it('is valid, follows the api replicas by DNS, and does not route /metrics', () => {
    const adapted = JSON.parse(
      execFileSync('caddy', ['adapt', '--config', 'deploy/Caddyfile', '--validate'], {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DOMAIN: 'api.example.com' },
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      }),
    ) as unknown;
    const text = JSON.stringify(adapted);
    expect(text).toContain('"dynamic_upstreams":{"name":"api","port":"8000","refresh":5000000000,"source":"a"}');
    expect(text).toContain('"host":["api.example.com"]');
    expect(text).toMatch(/"path":\["\/metrics","\/metrics\/\*"\]/);
  });
});
