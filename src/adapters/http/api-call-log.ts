import { fstatSync } from 'node:fs';
import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createCountingReport } from './counting-report.js';

/**
 * apicalls.log: one line per API request, in the original service's format:
 *   [31/Jul/2022 13:56:08] [INFO] [API_REQUEST] GET /api/v1/symbol/ibm/ user@example.com
 *
 * The log must never stop the service. A line is handed to the operating system as soon
 * as the previous write is done (lines that arrive meanwhile go together in the next
 * write), so it is in the file within milliseconds, not when a buffer fills. A write that
 * fails (a full disk, an I/O error) loses its lines, counted and reported, and the next
 * line is tried afresh; at most MAX_PENDING_BYTES wait in memory, beyond that lines are
 * dropped and counted too. (pino's SonicBoom, used before, keeps a failed write and
 * retries it forever, growing its buffer: with the disk full the log held every request.)
 */
export interface ApiCallLog {
  record(method: string, path: string, user: string, at?: Date): void;
  /** Opens the path anew (logrotate moved the file); if it cannot be opened, keeps writing to the old file. */
  reopen(): Promise<void>;
  health(): ApiCallLogHealth;
  close(): Promise<void>;
}

export interface ApiCallLogHealth {
  /** `failing` while the last write failed. */
  status: 'ok' | 'failing';
  /** Lines lost since the process started. */
  dropped: number;
}

/** Where the log reports its own trouble: the structured log on stdout. */
export interface LogReporter {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

/**
 * The most bytes POSIX lets a write to a pipe carry without another writer's bytes slipping in
 * (PIPE_BUF, 4096 on Linux). With APICALLS_LOG=/dev/stdout under Docker, the pipe is shared by the
 * JSON log and by every worker: lines are written in pieces of at most this size, so none is torn.
 */
export const PIPE_ATOMIC_BYTES = 4096;

/** Lines waiting for a slow disk, at most; about 10,000 ordinary lines. */
const MAX_PENDING_BYTES = 1024 * 1024;
/** Dropped lines are reported at most this often, so a full disk does not flood stdout. */
const REPORT_EVERY_MS = 5000;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `31/Jul/2022 13:56:08`, in UTC. */
export function logTimestamp(at: Date): string {
  return (
    `${pad(at.getUTCDate())}/${MONTHS[at.getUTCMonth()]}/${at.getUTCFullYear()} ` +
    `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}`
  );
}

/**
 * Everything not printable: controls (Cc), format characters (Cf: zero-width, bidi
 * controls), lone surrogates (Cs), private use (Co), unassigned and non-characters (Cn),
 * line and paragraph separators (Zl, Zp); and the backslash that starts an escape.
 */
const UNPRINTABLE = /[\\\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}]/gu;

function escapeCharacter(character: string): string {
  if (character === '\\') return '\\\\';
  const code = character.codePointAt(0)!;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\u{${code.toString(16)}}`;
}

/** So a crafted URL cannot forge or split a line, and `da\u200bve@…` never reads as `dave@…`. */
export function escapeForLog(text: string): string {
  return text.replace(UNPRINTABLE, escapeCharacter);
}

/** Paths longer than this are cut in the log: a line stays readable, and a flood of 15 KB URLs cannot fill the disk. */
const LOGGED_PATH_MAX = 1_024;

function cutForLog(path: string): string {
  if (path.length <= LOGGED_PATH_MAX) return path;
  return `${path.slice(0, LOGGED_PATH_MAX)}…(+${path.length - LOGGED_PATH_MAX} characters)`;
}

export function formatApiCall(at: Date, method: string, path: string, user: string): string {
  return `[${logTimestamp(at)}] [INFO] [API_REQUEST] ${escapeForLog(method)} ${escapeForLog(cutForLog(path))} ${escapeForLog(user)}\n`;
}

async function openForAppend(path: string): Promise<FileHandle> {
  await mkdir(dirname(path), { recursive: true });
  return open(path, 'a');
}

/**
 * The whole text, in as many writes as the system needs (a file opened to append takes
 * it all in one, short of a full disk). FileHandle.appendFile does this through
 * writeFile's general machinery, which a profile under load showed costing more than the
 * write itself.
 */
async function writeWhole(handle: FileHandle, text: string): Promise<void> {
  const bytes = Buffer.from(text);
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, written, bytes.length - written);
    // Never seen on a regular file, but a loop that cannot advance must not spin.
    if (bytesWritten === 0) throw new Error('no byte was written');
    written += bytesWritten;
  }
}

/**
 * Whole lines, gathered into pieces of at most `maxBytes` (a longer line is a piece of its own: it
 * cannot be written in one atomic write anyway).
 */
export function piecesOfLines(lines: string[], maxBytes: number): { text: string; lines: number }[] {
  const pieces: { text: string; lines: number }[] = [];
  let text = '';
  let bytes = 0;
  let count = 0;
  for (const line of lines) {
    const lineBytes = Buffer.byteLength(line);
    if (count > 0 && bytes + lineBytes > maxBytes) {
      pieces.push({ text, lines: count });
      text = '';
      bytes = 0;
      count = 0;
    }
    text += line;
    bytes += lineBytes;
    count++;
  }
  if (count > 0) pieces.push({ text, lines: count });
  return pieces;
}

/** A log file proper takes a batch in one write; a pipe, a terminal or a socket (/dev/stdout) in atomic pieces. */
// Synchronous on purpose: reopen() swaps to the new file in the same turn it is opened, so no line lands in
// the rotated file after the new one exists (a test waiting for the file to appear saw one there).
function largestWrite(handle: FileHandle): number {
  return fstatSync(handle.fd).isFile() ? Number.POSITIVE_INFINITY : PIPE_ATOMIC_BYTES;
}

/** Opens (creating its folder) the log at `path`; refuses to start if it cannot. */
export async function createApiCallLog(path: string, reporter: LogReporter): Promise<ApiCallLog> {
  const handle = await openForAppend(path);
  const file = new RequestLogFile(path, handle, largestWrite(handle), reporter);
  return {
    record: (method, requestPath, user, at = new Date()) => file.append(formatApiCall(at, method, requestPath, user)),
    reopen: () => file.reopen(),
    health: () => file.health(),
    close: () => file.close(),
  };
}

class RequestLogFile {
  private pending: string[] = [];
  private pendingBytes = 0;
  /** The write loop, while one runs; `inFlight` is its current write. */
  private writing: Promise<void> | undefined;
  private inFlight: Promise<unknown> = Promise.resolve();
  private closed = false;
  private lastError: unknown;
  private dropped = 0;
  private readonly drops = createCountingReport(REPORT_EVERY_MS, (count) =>
    this.reporter.warn(
      { path: this.path, dropped: count, dropped_total: this.dropped, err: this.lastError },
      'apicalls.log lines dropped: the file cannot be written',
    ),
  );

  constructor(
    private readonly path: string,
    private handle: FileHandle,
    private maxWriteBytes: number,
    private readonly reporter: LogReporter,
  ) {}

  append(line: string): void {
    const bytes = Buffer.byteLength(line);
    if (this.closed || this.pendingBytes + bytes > MAX_PENDING_BYTES) {
      this.drop(1, this.closed ? new Error('the log is closed') : new Error(`over ${MAX_PENDING_BYTES} bytes wait for the disk`));
      return;
    }
    this.pending.push(line);
    this.pendingBytes += bytes;
    this.writing ??= this.writeAll();
  }

  /** Writes what is pending, in batches, until nothing is; a failed batch is dropped, the next one tried. */
  private async writeAll(): Promise<void> {
    while (this.pending.length > 0) {
      const lines = this.pending;
      this.pending = [];
      this.pendingBytes = 0;
      const write = this.writeBatch(lines);
      this.inFlight = write;
      await write;
    }
    this.writing = undefined;
  }

  /** One batch, in as few writes as the target allows; lines from a failed write on are dropped. */
  private async writeBatch(lines: string[]): Promise<void> {
    const pieces =
      this.maxWriteBytes === Number.POSITIVE_INFINITY ? [{ text: lines.join(''), lines: lines.length }] : piecesOfLines(lines, this.maxWriteBytes);
    for (let i = 0; i < pieces.length; i++) {
      try {
        await writeWhole(this.handle, pieces[i]!.text);
      } catch (error) {
        this.drop(pieces.slice(i).reduce((sum, piece) => sum + piece.lines, 0), error);
        return;
      }
    }
    this.wrote();
  }

  async reopen(): Promise<void> {
    if (this.closed) return;
    let fresh: FileHandle;
    let maxWriteBytes: number;
    try {
      fresh = await openForAppend(this.path);
      maxWriteBytes = largestWrite(fresh);
    } catch (error) {
      this.reporter.error({ err: error, path: this.path }, 'apicalls.log cannot be reopened: still writing to the file open before');
      return;
    }
    const old = this.handle;
    // Writes from here on go to the new file; the one in flight finishes on the old one.
    this.handle = fresh;
    this.maxWriteBytes = maxWriteBytes;
    await this.inFlight.catch(() => undefined);
    await old.close().catch(() => undefined);
    this.reporter.info({ path: this.path }, 'apicalls.log reopened');
  }

  health(): ApiCallLogHealth {
    return { status: this.lastError === undefined ? 'ok' : 'failing', dropped: this.dropped };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.writing;
    await this.handle.close();
    this.drops.flush();
  }

  private wrote(): void {
    if (this.lastError === undefined) return;
    this.lastError = undefined;
    this.reporter.info({ path: this.path, dropped_total: this.dropped }, 'apicalls.log is written again');
  }

  private drop(lines: number, error: unknown): void {
    this.dropped += lines;
    this.lastError = error;
    this.drops.add(lines);
  }
}
