/**
 * Every shell example of the README and the guide, run in order as a reader would run them (one shell,
 * so a variable set in one block is there in the next), against the service started as `npm start`
 * starts it in sandbox mode; what each prints is compared with the answer the document shows.
 */
import { type ChildProcess, type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DocExample, matchesShown, shellExamples } from '../support/doc-blocks.js';
import { freePort, PROCESS_TEST_TIMEOUT_MS, waitForServer } from '../support/process.js';

const ROOT = new URL('../../', import.meta.url);
/** The address the documents use; the test's service listens elsewhere, and the commands are pointed at it. */
const DOCUMENTED_ORIGIN = 'http://127.0.0.1:8000';

/** Each group is read in order in one shell against one fresh service, as a reader would follow it. */
const GROUPS = [
  ['README.md'],
  ['docs/guide/getting-started.md', 'docs/guide/api-tour.md', 'docs/guide/gateway.md', 'docs/guide/trades-and-portfolios.md'],
];

const MARKER = '__example_done__';

/** One bash, fed one example at a time; what it prints up to the marker is the example's output. */
class Shell {
  private readonly bash: ChildProcessWithoutNullStreams;
  private stdout = '';
  private stderr = '';

  constructor(cwd: string) {
    this.bash = spawn('bash', ['--noprofile', '--norc'], { cwd, env: { PATH: process.env.PATH ?? '', HOME: cwd, LANG: 'C.UTF-8' } });
    this.bash.stdout.setEncoding('utf8').on('data', (chunk: string) => (this.stdout += chunk));
    this.bash.stderr.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
  }

  async run(commands: string): Promise<{ stdout: string; stderr: string }> {
    this.stdout = this.stderr = '';
    this.bash.stdin.write(`${commands}\nprintf '\\n%s\\n' ${MARKER}\n`);
    const done = `\n${MARKER}\n`;
    while (!this.stdout.includes(done)) {
      if (this.bash.exitCode !== null) throw new Error(`the shell exited (${this.bash.exitCode}); it printed:\n${this.stdout}\n${this.stderr}`);
      await new Promise((resolve) => this.bash.stdout.once('data', resolve));
    }
    return { stdout: this.stdout.slice(0, this.stdout.indexOf(done)), stderr: this.stderr };
  }

  close(): void {
    this.bash.kill('SIGKILL');
  }
}

function examplesOf(files: string[]): DocExample[] {
  return files.flatMap((file) => shellExamples(readFileSync(new URL(file, ROOT), 'utf8'), file));
}

for (const files of GROUPS) {
  describe(`the shell examples of ${files.join(', ')}`, () => {
    const examples = examplesOf(files);
    let origin = '';
    let shell: Shell;
    let service: ChildProcess;

    beforeAll(async () => {
      const folder = mkdtempSync(join(tmpdir(), 'docs-'));
      const port = await freePort();
      origin = `http://127.0.0.1:${port}`;
      // As `npm start` on a fresh clone: no vendor key, so the sandbox. Not support/process.ts's runEntry,
      // whose processes end with each test: this one serves every example of the group.
      service = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', PORT: String(port), LOG_LEVEL: 'warn', DATABASE_URL: `sqlite:${join(folder, 'service.db')}`, APICALLS_LOG: join(folder, 'apicalls.log') },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      service.stdout?.on('data', (chunk) => (output += chunk));
      service.stderr?.on('data', (chunk) => (output += chunk));
      await waitForServer(`${origin}/health`, { child: service, output: () => output, exited: once(service, 'exit').then(([code]) => code as number | null) });
      shell = new Shell(folder);
    }, PROCESS_TEST_TIMEOUT_MS);

    afterAll(() => {
      shell?.close();
      service?.kill('SIGKILL');
    });

    it('has examples to run', () => {
      expect(examples.length).toBeGreaterThan(0);
    });

    for (const example of examples) {
      it(`${example.where} runs as written`, async () => {
        const { stdout, stderr } = await shell.run(example.commands.replaceAll(DOCUMENTED_ORIGIN, origin));
        if (example.shown === undefined) return;
        const printed = stdout.replaceAll(origin, DOCUMENTED_ORIGIN);
        if (!matchesShown(printed, example.shown)) {
          expect.fail(`${example.where}: the document shows\n${example.shown}\nbut the commands printed\n${printed}${stderr ? `\nand on stderr\n${stderr}` : ''}`);
        }
      }, 30_000);
    }
  });
}
