/** What every command of the CLI is: its words, its help, and what it does. */
import type { Kysely } from 'kysely';
import { connectDatabase } from '../adapters/db/connect.js';
import type { Database } from '../adapters/db/database.js';
import { migrateToLatest } from '../adapters/db/migrate.js';
import type { Config } from '../config.js';

export interface Command {
  /** The words that name it: "migrate", "accounts list". */
  name: string;
  /** Its arguments, as the usage line shows them. */
  synopsis: string;
  /** One line, for the list of commands. */
  summary: string;
  /** The rest of its --help: arguments, output, examples. */
  details: string;
  run(args: string[], config: () => Config): Promise<void>;
}

/** The command could not do what was asked (no such account, a file refused): its one line, and exit code 1. */
export class CommandFailedError extends Error {}

/**
 * Opens the database of DATABASE_URL, brings its schema up to date (as an instance does at start: a
 * command may need a column added since), runs `work`, and closes it.
 */
export async function withDatabase<T>(config: Config, work: (db: Kysely<Database>) => Promise<T>): Promise<T> {
  const db = connectDatabase(config.database);
  try {
    await migrateToLatest(db);
    return await work(db);
  } finally {
    await db.destroy();
  }
}

export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}
