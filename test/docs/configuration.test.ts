/**
 * docs/reference/configuration.md against src/config.ts. The variables the
 * service reads are recorded, not listed by hand: loadConfig is given an
 * environment Proxy that notes every name asked of it, in each mode that reads
 * different names (the sandbox, real providers, PostgreSQL, Redis with workers).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

type Env = Record<string, string | undefined>;

const MODES: Record<string, Env> = {
  sandbox: {},
  providers: { ALPHAVANTAGE_API_KEY: 'av-key', TWELVEDATA_API_KEY: 'td-key' },
  postgres: { DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/postgres' },
  redis: { REDIS_URL: 'redis://127.0.0.1:6379', WEB_CONCURRENCY: '2' },
};

/** The names loadConfig reads from `env`, in the order it reads them. */
function namesRead(env: Env): Set<string> {
  const read = new Set<string>();
  const recording = new Proxy(env, {
    get(target, name) {
      if (typeof name === 'string') read.add(name);
      return target[name as string];
    },
  });
  loadConfig(recording);
  return read;
}

const readByMode = Object.fromEntries(Object.entries(MODES).map(([mode, env]) => [mode, namesRead(env)]));
const readAnywhere = new Set(Object.values(readByMode).flatMap((names) => [...names]));

/** Each table row of the page that names a variable: `| \`NAME\` | default | meaning |`. */
function documentedVariables(): Map<string, string> {
  const page = readFileSync(new URL('../../docs/reference/configuration.md', import.meta.url), 'utf8');
  const rows = new Map<string, string>();
  for (const match of page.matchAll(/^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|/gm)) {
    expect(rows.has(match[1]!), `${match[1]} is documented twice`).toBe(false);
    rows.set(match[1]!, match[2]!.trim());
  }
  return rows;
}

/** A default written as one value — `8000`, `100/day`, `4194304` (4 MiB) — and not a sentence or "—". */
function simpleDefault(cell: string): string | undefined {
  return /^`([^`]+)`(?: \([^)]*\))?$/.exec(cell)?.[1];
}

describe('docs/reference/configuration.md', () => {
  const documented = documentedVariables();

  it('when the service reads a variable in any mode, then the page lists it', () => {
    expect(readAnywhere.size).toBeGreaterThan(40);
    expect([...readAnywhere].filter((name) => !documented.has(name)).sort()).toEqual([]);
  });

  it('when the page lists a variable, then the service reads it (no stale ones)', () => {
    expect([...documented.keys()].filter((name) => !readAnywhere.has(name)).sort()).toEqual([]);
  });

  it('when a documented default is set explicitly, then the configuration is the one loaded with the variable unset', () => {
    const checked: string[] = [];
    for (const [name, cell] of documented) {
      const value = simpleDefault(cell);
      if (value === undefined) continue;
      const mode = Object.keys(MODES).find((m) => readByMode[m]!.has(name))!;
      const base = MODES[mode]!;
      expect(loadConfig({ ...base, [name]: value }), `${name}'s documented default "${value}" (${mode})`).toEqual(loadConfig(base));
      checked.push(name);
    }
    // The check is not vacuous: most defaults are simple values, and a wrong one is caught.
    expect(checked.length).toBeGreaterThan(35);
    expect(loadConfig({ PORT: '8001' })).not.toEqual(loadConfig({}));
  });

  it('when a default is not a simple value, then the page still says what happens when it is unset', () => {
    for (const [name, cell] of documented) expect(cell, name).not.toBe('');
    expect(loadConfig({}).prefetch.enabled).toBe(false);
    expect(loadConfig(MODES.providers!).prefetch.enabled).toBe(true);
    expect(documented.get('PREFETCH')).toBe('`on` with a real provider, `off` with the sandbox');
    expect(loadConfig({}).redisUrl).toBeUndefined();
    expect(loadConfig({}).corsOrigins).toEqual([]);
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({}).providers).toEqual([]);
  });
});
