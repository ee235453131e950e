/**
 * Counts events (dropped log lines, refused connections) and reports how many: the first
 * at once, then at most once per `everyMs`, so a flood of them never floods stdout.
 */
export interface CountingReport {
  add(count?: number): void;
  /** Reports what is still unreported, now (on close). */
  flush(): void;
}

export function createCountingReport(everyMs: number, report: (count: number) => void): CountingReport {
  let unreported = 0;
  let lastReportAt = -Infinity;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(timer);
    timer = undefined;
    if (unreported === 0) return;
    lastReportAt = Date.now();
    const count = unreported;
    unreported = 0;
    report(count);
  };
  return {
    add(count = 1) {
      unreported += count;
      if (timer) return;
      // unref'd: a pending report never keeps the process alive.
      timer = setTimeout(flush, Math.max(0, lastReportAt + everyMs - Date.now())).unref();
    },
    flush,
  };
}
