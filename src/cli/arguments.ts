/**
 * Reading a command's arguments: node:util's parseArgs (strict: an unknown option is an error), its
 * errors turned into one line that names the problem. No argument library: parseArgs does what these
 * few commands need, and its errors only needed rewording.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Wrong arguments: one line on stderr and exit code 2 (src/cli.ts). */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** The command's options and positionals, or a UsageError naming what is wrong. */
export function readArguments<T extends Options>(command: string, args: string[], options: T, positionals: { min: number; max: number; names: string }) {
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(`${command}: ${firstLineOf(error)}`);
  }
  const count = parsed.positionals.length;
  if (count < positionals.min || count > positionals.max) {
    const expected = positionals.names ? `takes ${positionals.names}` : 'takes no argument';
    throw new UsageError(`${command} ${expected}${count > positionals.max ? `; "${parsed.positionals[positionals.max]}" is one too many` : ''}`);
  }
  return parsed;
}

/**
 * parseArgs explains itself over several lines; the first says what is wrong. An ambiguous value
 * (one starting with a dash) keeps the last, which says how to write it.
 */
function firstLineOf(error: unknown): string {
  const lines = (error instanceof Error ? error.message : String(error)).split('\n');
  const what = lines[0]!.replace(/\.\s.*$/, '').replace(/\.$/, '');
  return /ambiguous/.test(what) && lines.length > 1 ? `${what}: ${lines.at(-1)!.replace(/\.$/, '')}` : what;
}
