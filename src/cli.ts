/**
 * The operator's command line: `npm run cli -- <command>` (docs/operations/cli.md). Exit codes: 0 done,
 * 1 the command could not do it (named on one line), 2 wrong arguments (one line naming the problem).
 */
import { CsvRowError } from './adapters/csv/price-csv.js';
import { migrateToLatest } from './adapters/db/migrate.js';
import { connectDatabase } from './adapters/db/connect.js';
import { accountsFindCommand, accountsListCommand, accountsRevokeKeyCommand, accountsSetAllowanceCommand, keysRevokeCommand } from './cli/accounts.js';
import { readArguments, UsageError } from './cli/arguments.js';
import { type Command, CommandFailedError } from './cli/command.js';
import { deletePricesCommand, importPricesCommand } from './cli/prices.js';
import { tradesExportCommand } from './cli/trades.js';
import { type Config, ConfigError, DEFAULT_DATABASE_URL, loadConfig } from './config.js';
import { DomainError } from './domain/errors.js';
import { startupFailureLine } from './startup-failure.js';

const migrateCommand: Command = {
  name: 'migrate',
  synopsis: '',
  summary: 'apply pending database migrations (DATABASE_URL) and exit',
  details: `Applies the migrations the database of DATABASE_URL has not had, in order, each in its own
transaction, and names each. Safe while instances run and when several start at once (PostgreSQL:
an advisory lock). Every instance also applies them at start; every other command does too.

Example:
  DATABASE_URL=postgres://sms@db/sms npm run cli -- migrate`,
  async run(args, config) {
    readArguments('migrate', args, {}, { min: 0, max: 0, names: '' });
    const db = connectDatabase(config().database);
    try {
      const results = await migrateToLatest(db);
      if (results.length === 0) console.log('Database is up to date.');
      for (const result of results) console.log(`Applied ${result.migrationName}`);
    } finally {
      await db.destroy();
    }
  },
};

const COMMANDS: Command[] = [
  migrateCommand,
  accountsListCommand,
  accountsFindCommand,
  accountsSetAllowanceCommand,
  accountsRevokeKeyCommand,
  keysRevokeCommand,
  tradesExportCommand,
  importPricesCommand,
  deletePricesCommand,
];

const HELP = new Set(['--help', '-h', 'help']);

function usageLine(command: Command): string {
  return `npm run cli -- ${command.name}${command.synopsis ? ` ${command.synopsis}` : ''}`;
}

const USAGE = `Usage: npm run cli -- <command> [arguments]     (npm run cli -- <command> --help for its details)

Commands:
${COMMANDS.map((c) => `  ${`${c.name}${c.synopsis ? ` ${c.synopsis}` : ''}`}\n      ${c.summary}`).join('\n')}

The database is DATABASE_URL's (default ${DEFAULT_DATABASE_URL}); REDIS_URL, when set, carries key
revocations and allowance changes to running instances at once. Exit codes: 0 done, 1 the command
could not do it, 2 wrong arguments. More: docs/operations/cli.md`;

function commandHelp(command: Command): string {
  return `Usage: ${usageLine(command)}\n\n${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.\n\n${command.details}`;
}

/** The command named by the first one or two words, and the arguments after them. */
function resolve(args: string[]): { command?: Command; group?: Command[]; rest: string[] } {
  const [first, second] = args;
  const twoWords = COMMANDS.find((c) => c.name === `${first} ${second}`);
  if (twoWords) return { command: twoWords, rest: args.slice(2) };
  const oneWord = COMMANDS.find((c) => c.name === first);
  if (oneWord) return { command: oneWord, rest: args.slice(1) };
  const group = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
  return group.length > 0 ? { group, rest: args.slice(1) } : { rest: args.slice(1) };
}

/** Arguments up to a `--`: what follows is data (a file named --help), never a request for help. */
const asksForHelp = (args: string[]) => args.slice(0, args.includes('--') ? args.indexOf('--') : undefined).some((arg) => HELP.has(arg));

/** The one line an operator reads for a failure the command met, or undefined for a bug (printed whole). */
function failureLine(error: unknown, config: Config | undefined): string | undefined {
  if (error instanceof CommandFailedError || error instanceof ConfigError || error instanceof DomainError) return error.message;
  if (error instanceof CsvRowError) return `Nothing imported: ${error.message}`;
  const { code, path } = error as { code?: string; path?: string };
  if (code === 'ENOENT' && path) return `No such file: ${path}`;
  if ((code === 'EACCES' || code === 'EISDIR') && path) return `Cannot ${code === 'EISDIR' ? 'write a folder' : 'open'}: ${path}`;
  return config ? startupFailureLine(error, config) : undefined;
}

async function run(args: string[]): Promise<number> {
  const { command, group, rest } = resolve(args);
  if (args.length === 0) {
    console.error('No command given (npm run cli -- --help lists the commands)');
    return 2;
  }
  if (HELP.has(args[0]!)) return console.log(USAGE), 0;
  if (group) {
    if (asksForHelp(rest)) return console.log(group.map(commandHelp).join('\n\n---\n\n')), 0;
    console.error(`"${args[0]}" needs a command: ${group.map((c) => c.name).join(', ')} (npm run cli -- ${args[0]} --help)`);
    return 2;
  }
  if (!command) {
    console.error(`Unknown command "${args[0]}" (npm run cli -- --help lists the commands)`);
    return 2;
  }
  if (asksForHelp(rest)) return console.log(commandHelp(command)), 0;
  let config: Config | undefined;
  try {
    await command.run(rest, () => (config ??= loadConfig()));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message} (npm run cli -- ${command.name} --help)`);
      return 2;
    }
    const line = failureLine(error, config);
    if (line === undefined) throw error;
    console.error(line);
    return 1;
  }
}

/**
 * Resolves once what was written to `stream` has been handed to the system: stdout to a pipe is
 * asynchronous, and process.exit() drops what it still buffers (seen as a cut `accounts list --json`).
 * Write callbacks run in order, so an empty write's comes after every earlier write's.
 */
function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

run(process.argv.slice(2)).then(
  async (code) => {
    await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
    process.exit(code);
  },
  (error: unknown) => {
    // Not a failure the CLI knows: a bug, so all of it, stack included.
    console.error(error);
    process.exit(1);
  },
);
