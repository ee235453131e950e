import { describe, expect, it, vi } from 'vitest';
import { startService } from '../support/service.js';

describe('start-up on a busy host', () => {
  it('when loading the HTTP plugins takes minutes on the clock, then the service still starts', async () => {
    // On a starved host the clock runs on while a plugin waits for the CPU. Here it is moved a minute at each
    // route a plugin declares, past Fastify's plugin timeout (10 s by default), which would fail start-up with
    // AVV_ERR_PLUGIN_EXEC_TIMEOUT: the clock is injected, nothing waits for time to pass.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    let declared = 0;
    try {
      const { app } = await startService('sqlite', {}, undefined, {
        onRoute: () => {
          declared++;
          vi.advanceTimersByTime(60_000);
        },
      });
      await app.ready();
      expect(declared).toBeGreaterThan(10);
      expect((await app.inject({ method: 'GET', url: '/docs/' })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/health' })).json()).toMatchObject({ status: 'ok' });
    } finally {
      vi.useRealTimers();
    }
  });
});
