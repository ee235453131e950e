/**
 * An import's progress, by bytes read of the file: a bar with the percentage and the time left on a
 * terminal (cli-progress), plain lines otherwise (a log, a pipe, CI) — one per tenth of the file, so a
 * file of any size writes at most ten.
 */
import { SingleBar } from 'cli-progress';

export interface Progress {
  /** `bytes` of the file read so far, holding `rows` rows. */
  update(bytes: number, rows: number): void;
  /** The file is read whole. */
  done(rows: number): void;
}

export function fileProgress(file: string, totalBytes: number, output: NodeJS.WriteStream = process.stderr): Progress {
  return output.isTTY ? terminalBar(totalBytes, output) : plainLines(file, totalBytes, output);
}

function terminalBar(totalBytes: number, output: NodeJS.WriteStream): Progress {
  const bar = new SingleBar({
    stream: output,
    format: 'reading {bar} {percentage}% | {rows} rows | {eta_formatted} left',
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 50,
  });
  bar.start(Math.max(1, totalBytes), 0, { rows: 0 });
  return {
    update: (bytes, rows) => bar.update(bytes, { rows }),
    done(rows) {
      bar.update(Math.max(1, totalBytes), { rows });
      bar.stop();
    },
  };
}

function plainLines(file: string, totalBytes: number, output: NodeJS.WritableStream): Progress {
  let lastTenth = 0;
  const line = (percent: number, rows: number) => output.write(`read ${percent}% of ${file} (${rows} ${rows === 1 ? 'row' : 'rows'})\n`);
  return {
    update(bytes, rows) {
      const tenth = totalBytes > 0 ? Math.floor((bytes / totalBytes) * 10) : 0;
      if (tenth <= lastTenth || tenth >= 10) return;
      lastTenth = tenth;
      line(tenth * 10, rows);
    },
    done: (rows) => line(100, rows),
  };
}
