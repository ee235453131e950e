/** Records the service's real answers and hands them to the ceiling process (./ceiling-server.ts) and the Fastify floor (./floor-server.ts). */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import type { RecordedAnswer } from './ceiling-server.js';

const SKIPPED = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);

/** One GET of `path` on the service, as the ceiling will replay it. */
export function recordAnswer(base: string, path: string, headers: Record<string, string> = {}): Promise<RecordedAnswer> {
  return new Promise((resolve, reject) => {
    request(`${base}${path}`, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const pairs: [string, string][] = [];
        for (let i = 0; i < response.rawHeaders.length; i += 2) {
          const name = response.rawHeaders[i]!;
          if (!SKIPPED.has(name.toLowerCase())) pairs.push([name, response.rawHeaders[i + 1]!]);
        }
        resolve({ path, status: response.statusCode ?? 0, headers: pairs, bodyBase64: Buffer.concat(chunks).toString('base64') });
      });
      response.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

export interface Ceiling {
  base: string;
  pid: number;
  serve(answers: RecordedAnswer[]): Promise<void>;
  stop(): Promise<void>;
}

/** The bare node:http ceiling (./ceiling-server.ts), or the bare Fastify floor (./floor-server.ts). */
export async function startCeiling(server: 'bench/ceiling-server.ts' | 'bench/floor-server.ts' = 'bench/ceiling-server.ts'): Promise<Ceiling> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', server], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [first] = (await once(child, 'message')) as [{ port: number }];
  return {
    base: `http://127.0.0.1:${first.port}`,
    pid: child.pid!,
    async serve(answers) {
      const loaded = once(child, 'message');
      child.send({ answers });
      await loaded;
    },
    async stop() {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      await exited;
    },
  };
}
