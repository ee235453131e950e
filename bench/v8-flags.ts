/**
 * What V8 flags that trade speed for memory cost and save (issue 10, idle RSS), in one run:
 *
 *   npx tsx bench/v8-flags.ts [flags …]   # default: '' --max-semi-space-size=2 --optimize-for-size
 *
 * Starts the built service once per set of flags (`node <flags> dist/main.js`, as the start script
 * and Dockerfile would pass them), reads each one's RSS 2 s after it is ready, then
 * loads scenario 1 (the quote) on all of them in interleaved rounds (one SQLite file shared, as in
 * scenario 7): requests/s, CPU per answer, peak RSS.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IBM_BARS, startUpstream } from '../test/support/stand-in.js';
import { compareAll } from './load.js';
import { register } from './scenarios.js';
import { startService, type Service } from './service.js';

const flagSets = process.argv.slice(2).length > 0 ? process.argv.slice(2) : ['', '--max-semi-space-size=2', '--optimize-for-size'];

async function main() {
  const upstream = await startUpstream();
  upstream.set('alphavantage', 'IBM', { kind: 'bars', bars: IBM_BARS });
  const folder = mkdtempSync(join(tmpdir(), 'sms-v8-flags-'));
  const services: Service[] = [];
  try {
    for (const flags of flagSets) {
      services.push(
        await startService({
          // One database for all (as scenario 7 shares one): one key serves every service.
          databaseUrl: `sqlite:${join(folder, 'shared.db')}`,
          upstreamUrl: upstream.url,
          apiCallsLog: join(folder, `apicalls-${services.length}.log`),
          nodeArgs: flags.split(' ').filter(Boolean),
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const idle = services.map((s) => s.rssMb());
    const key = await register(services[0]!.base);
    const load = { paths: ['/api/v1/symbol/IBM/'], headers: { authorization: `Token ${key}` } };
    for (const service of services) await (await fetch(`${service.base}${load.paths[0]}`, { headers: load.headers })).arrayBuffer();
    const measured = await compareAll(services, load);
    const results = services.map((service, i) => ({ flags: flagSets[i] || '(none)', idle: idle[i]!, m: measured[i]!, peak: service.peakRssMb() }));
    console.log('| V8 flags | idle RSS MB | req/s | p99 ms | CPU µs/answer | peak RSS MB |');
    console.log('|---:|---:|---:|---:|---:|---:|');
    for (const r of results) console.log(`| ${r.flags} | ${r.idle.toFixed(0)} | ${Math.round(r.m.rps)} | ${r.m.p99} | ${r.m.cpuUs?.toFixed(0)} | ${r.peak.toFixed(0)} |`);
  } finally {
    for (const service of services) await service.stop();
    await upstream.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
