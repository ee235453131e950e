// Builds dist/ (the service, then the dashboard) only as far as it is out of date, so `npm start`
// and `npm run cli` run the built code at once when nothing changed (about 0.5 s instead of 4–8 s).
//   node scripts/build.mjs            build what is stale
//   node scripts/build.mjs --force    build everything
// The service: `tsc -b` decides, from dist/.tsbuildinfo, whether any source or setting changed since
// the last build (a changed src/ file always rebuilds). The dashboard: Vite has no such check, so its
// inputs (web/, vite.config.ts, package-lock.json) are hashed, and the hash of the last build kept
// beside it; a different hash (an edit, a checkout, an upgrade) rebuilds it. Hand-written because
// neither tool offers it: a content hash rather than times, so a file restored with an old time counts.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const force = process.argv.includes('--force');
const DASHBOARD_OUT = 'dist/web';
const DASHBOARD_STAMP = join(DASHBOARD_OUT, '.inputs-sha256');
const DASHBOARD_INPUTS = ['web', 'vite.config.ts', 'package-lock.json'];

/** Runs a package's command line with this Node; exits with its code when it fails. */
function run(bin, args) {
  const result = spawnSync(process.execPath, [bin, ...args], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function filesUnder(path) {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath ?? entry.path, entry.name));
}

function dashboardInputsHash() {
  const hash = createHash('sha256');
  for (const file of DASHBOARD_INPUTS.flatMap(filesUnder).sort()) hash.update(`${file}\0`).update(readFileSync(file)).update('\0');
  return hash.digest('hex');
}

run('node_modules/typescript/bin/tsc', ['-b', 'tsconfig.build.json', ...(force ? ['--force'] : [])]);

const inputs = dashboardInputsHash();
const built = existsSync(DASHBOARD_STAMP) && existsSync(join(DASHBOARD_OUT, 'index.html')) ? readFileSync(DASHBOARD_STAMP, 'utf8') : undefined;
if (force || built !== inputs) {
  run('node_modules/vite/bin/vite.js', ['build', '--logLevel', 'warn']);
  writeFileSync(DASHBOARD_STAMP, inputs);
}
