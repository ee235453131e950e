/**
 * Builds the dashboard (web/) with the project's vite.config.ts, as `npm run build` does, into
 * `outDir` (dist/web unless given). About a second: done by the tests that need the page, not by
 * every run's global setup.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITE = fileURLToPath(new URL('../../node_modules/vite/bin/vite.js', import.meta.url));

export async function buildDashboard(outDir?: string): Promise<void> {
  // Vite refuses a second concurrent build of a project unless told; test files build in parallel, each
  // into its own folder (a temporary one, or dist/web for the one test that needs the service's own).
  const args = [VITE, 'build', '--logLevel', 'warn', '--bypass-lock', ...(outDir ? ['--outDir', outDir, '--emptyOutDir'] : [])];
  // Vitest sets NODE_ENV=test, which the child would inherit and Preact's plugin would read as a
  // development build (preact/debug included): the tests serve what production serves.
  await promisify(execFile)(process.execPath, args, { cwd: ROOT, timeout: 60_000, env: { ...process.env, NODE_ENV: 'production' } });
}
