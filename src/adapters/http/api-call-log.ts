import { pino } from 'pino';

/**
 * apicalls.log: one line per API request, in the original service's format:
 *   [31/Jul/2022 13:56:08] [INFO] [API_REQUEST] GET /api/v1/symbol/ibm/ user@example.com
 * Written through pino's file writer (SonicBoom): buffered and asynchronous,
 * flushed on close, reopened on demand so logrotate can move the file.
 */
export interface ApiCallLog {
  record(method: string, path: string, user: string, at?: Date): void;
  reopen(): void;
  close(): Promise<void>;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');

/** `31/Jul/2022 13:56:08`, in UTC. */
export function logTimestamp(at: Date): string {
  return (
    `${pad(at.getUTCDate())}/${MONTHS[at.getUTCMonth()]}/${at.getUTCFullYear()} ` +
    `${pad(at.getUTCHours())}:${pad(at.getUTCMinutes())}:${pad(at.getUTCSeconds())}`
  );
}

/** Control characters (CR, LF, ESC, …) and backslashes escaped, so a crafted URL cannot forge or split a line. */
export function escapeForLog(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) =>
    c === '\\' ? '\\\\' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

export function formatApiCall(at: Date, method: string, path: string, user: string): string {
  return `[${logTimestamp(at)}] [INFO] [API_REQUEST] ${escapeForLog(method)} ${escapeForLog(path)} ${escapeForLog(user)}\n`;
}

export function createApiCallLog(path: string): ApiCallLog {
  const file = pino.destination({ dest: path, mkdir: true, append: true, sync: false, minLength: 4096 });
  return {
    record(method, requestPath, user, at = new Date()) {
      file.write(formatApiCall(at, method, requestPath, user));
    },
    reopen() {
      // Buffered lines belong to the file being rotated away: write them to its
      // (still open) descriptor first, then open the path anew. Lines a failed
      // flush kept in the buffer go to the new file rather than nowhere.
      file.flush(() => file.reopen());
    },
    close() {
      return new Promise((resolve, reject) => {
        file.once('close', () => resolve());
        file.once('error', reject);
        file.end();
      });
    },
  };
}
