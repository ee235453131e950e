import { afterEach } from 'vitest';
import { startUpstream as startStandIn, type Upstream } from './stand-in.js';

export * from './stand-in.js';

const running: Upstream[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()?.close();
});

/** The vendors' stand-in, closed after the test. */
export async function startUpstream(options: { prefix?: string } = {}): Promise<Upstream> {
  const upstream = await startStandIn(options);
  running.push(upstream);
  return upstream;
}
