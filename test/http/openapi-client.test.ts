/**
 * A TypeScript client generated from the served /openapi.json, as a user makes one (openapi-typescript
 * for the types, openapi-fetch for the calls; docs/reference/openapi.md), type-checks the calls in
 * test/fixtures/openapi-client/tour.ts without a cast, and works against the running service.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { startService } from '../support/service.js';

const FIXTURE = resolve('test/fixtures/openapi-client/tour.ts');

/** Inside the repository's node_modules, so the generated client finds openapi-fetch as a user's project would. */
const CACHE = resolve('node_modules/.cache');
const folders: string[] = [];
afterEach(() => {
  while (folders.length > 0) rmSync(folders.pop()!, { recursive: true, force: true });
});

/** A fresh folder holding the fixture and the types generated from the document at `documentUrl`. */
async function generatedClient(documentUrl: URL): Promise<string> {
  mkdirSync(CACHE, { recursive: true });
  const folder = mkdtempSync(join(CACHE, 'openapi-client-'));
  folders.push(folder);
  writeFileSync(join(folder, 'schema.ts'), astToString(await openapiTS(documentUrl, { silent: true })));
  copyFileSync(FIXTURE, join(folder, 'tour.ts'));
  return folder;
}

/** tsc's complaints about the folder's files, strict, as a user's bundler project would compile them; '' when none. */
function typeErrors(folder: string): string {
  const options: ts.CompilerOptions = {
    strict: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: [],
    // The packages' own declarations are theirs to check; schema.ts and tour.ts are checked whole.
    skipLibCheck: true,
  };
  const program = ts.createProgram([join(folder, 'schema.ts'), join(folder, 'tour.ts')], options);
  const host = { getCanonicalFileName: (name: string) => name, getCurrentDirectory: () => folder, getNewLine: () => '\n' };
  return ts.formatDiagnostics(ts.getPreEmitDiagnostics(program), host);
}

/** What `tour` returns: each answer's body (typed in the fixture; not imported here, as its types exist only beside it). */
type Seen = Record<'quote' | 'history' | 'csv' | 'created' | 'listed' | 'fetched' | 'portfolio', unknown>;

/** The fixture as JavaScript beside it (types erased), loaded by Node. */
async function loadTour(folder: string): Promise<{ tour: (baseUrl: string) => Promise<Seen> }> {
  const source = ts.sys.readFile(join(folder, 'tour.ts'))!;
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  const compiled = join(folder, 'tour.mjs');
  writeFileSync(compiled, outputText);
  return import(/* @vite-ignore */ pathToFileURL(compiled).href);
}

describe('a TypeScript client generated from /openapi.json', () => {
  it('when generated with openapi-typescript, then quote, history, trades and portfolio calls type-check without a cast, and work', { timeout: 60_000 }, async () => {
    const service = await startService('sqlite');
    await service.app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${(service.app.server.address() as AddressInfo).port}`;

    const folder = await generatedClient(new URL('/openapi.json', base));
    expect(typeErrors(folder)).toBe('');

    const { tour } = await loadTour(folder);
    const seen = await tour(base);
    expect(seen.quote).toMatchObject({ symbol: 'IBM', close_value: expect.stringMatching(/^\d+\.\d+$/) });
    expect(seen.history).toMatchObject({ symbol: 'IBM', adjusted: true, interval: '1week', bars: expect.arrayContaining([expect.objectContaining({ close: expect.any(String) })]) });
    expect(String(seen.csv).split('\n')[0]).toBe('date,open,high,low,close,volume');
    expect(seen.created).toMatchObject({ id: 1, user_id: 7, symbol: 'IBM', type: 'buy', shares: 10 });
    expect(seen.listed).toEqual([seen.created]);
    expect(seen.fetched).toEqual(seen.created);
    expect(seen.portfolio).toMatchObject({ user_id: 7, positions: [{ symbol: 'IBM', shares: 10, side: 'long' }] });
  });
});
