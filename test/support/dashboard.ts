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
  const args = [VITE, 'build', '--logLevel', 'warn', ...(outDir ? ['--outDir', outDir, '--emptyOutDir'] : [])];
  await promisify(execFile)(process.execPath, args, { cwd: ROOT, timeout: 60_000 });
}
