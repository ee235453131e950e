/**
 * Debian's Chromium, driven by playwright-core, for tests of pages the service
 * serves (/docs; dashboards later). No browser is downloaded: a missing
 * `chromium` fails the test, in CI and locally alike, naming what to install.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';

/** CHROMIUM_PATH, or `chromium` on the PATH. */
export function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH ?? which('chromium');
  if (!path || !existsSync(path)) {
    throw new Error(
      `Chromium not found (${process.env.CHROMIUM_PATH ? `CHROMIUM_PATH=${process.env.CHROMIUM_PATH}` : '`chromium` is not on the PATH'}): ` +
        'install it with `apt-get install -y chromium`, or set CHROMIUM_PATH',
    );
  }
  return path;
}

function which(command: string): string | undefined {
  try {
    return execFileSync('which', [command], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * A headless Chromium with a fresh profile, and nothing of its own on the network
 * (no component updates, sync or background fetches): every request it makes is
 * one a page asked for. `args` adds flags (say, --host-resolver-rules to reach the
 * service by a name). (Playwright takes the profile directory as launchPersistentContext's
 * argument; it refuses `--user-data-dir` among the args.)
 */
export async function launchBrowser(options: { args?: string[] } = {}): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  try {
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: chromiumPath(),
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        ...(options.args ?? []),
      ],
    });
    return {
      context,
      close: async () => {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
}
