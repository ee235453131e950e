import { afterEach } from 'vitest';
import { startUpstream as startStandIn, type Upstream } from './stand-in.js';

export * from './stand-in.js';

const running: Upstream[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()?.close();
});

/** The vendors' stand-in, closed after the test. */
export async function startUpstream(): Promise<Upstream> {
  const upstream = await startStandIn();
  running.push(upstream);
  return upstream;
}
