import { createHash } from 'node:crypto';
import type { MarketDataProvider } from '../../app/market-data.js';
import { latestFinalSession } from '../../domain/market-calendar.js';
import type { DailyBar } from '../../domain/quote.js';

export const SANDBOX_SOURCE = 'sandbox';

/** A number in [0, 1) fixed by the text: the same symbol and day always give the same bar. */
function unitHash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

const DAY_MS = 86_400_000;

function barFor(symbol: string, date: Date): DailyBar {
  const day = Math.floor(date.getTime() / DAY_MS);
  const base = 20 + unitHash(symbol) * 480;
  const phase = unitHash(`${symbol}:phase`) * 2 * Math.PI;
  const iso = date.toISOString().slice(0, 10);
  const noise = (label: string) => unitHash(`${symbol}:${iso}:${label}`);
  const close = base * (1 + 0.15 * Math.sin(day / 23 + phase) + 0.02 * (noise('close') - 0.5));
  const open = close * (1 + 0.02 * (noise('open') - 0.5));
  const high = Math.max(open, close) * (1 + 0.01 * noise('high'));
  const low = Math.min(open, close) * (1 - 0.01 * noise('low'));
  return {
    date: iso,
    open: open.toFixed(4),
    high: high.toFixed(4),
    low: low.toFixed(4),
    close: close.toFixed(4),
    volume: Math.round(1e5 + noise('volume') * 1e7),
  };
}

/**
 * Deterministic synthetic daily bars for any valid symbol, offline: the last
 * 100 weekday sessions. Used only when no real provider is configured, so the
 * service works on a laptop without a key; every answer says source "sandbox".
 */
export function createSandboxProvider(): MarketDataProvider {
  return {
    name: SANDBOX_SOURCE,
    maxConcurrentRequests: 100,
    async getDailyBars(symbol) {
      const bars: DailyBar[] = [];
      const day = new Date(`${latestFinalSession(new Date())}T00:00:00Z`);
      while (bars.length < 100) {
        if (day.getUTCDay() !== 0 && day.getUTCDay() !== 6) bars.push(barFor(symbol, day));
        day.setUTCDate(day.getUTCDate() - 1);
      }
      // Synthetic prices are in no currency: none is claimed (it would stick to a symbol imported later).
      return { bars };
    },
  };
}
