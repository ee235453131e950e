/**
 * Accounts as an operator sees them: list and find them, revoke a key, give one account its own
 * allowance. Every rule is the service's own (app/accounts.ts, app/throttle.ts): an email is compared
 * as registration compares it, a key is revoked as POST /keys/revoke revokes it, and the allowance
 * is the one the throttle applies.
 */
import type { Kysely } from 'kysely';
import { createAccountStore } from '../adapters/db/account-store.js';
import type { Database } from '../adapters/db/database.js';
import { connectRedisKeyRevocations } from '../adapters/pubsub/key-revocations.js';
import { type AccountService, type AccountWithKey, createAccountService } from '../app/accounts.js';
import { allowanceOf } from '../app/throttle.js';
import type { Config } from '../config.js';
import { parseRate, RATE_SYNTAX } from '../domain/throttle.js';
import { readArguments, UsageError } from './arguments.js';
import { type Command, CommandFailedError, withDatabase } from './command.js';

/**
 * The accounts use cases over DATABASE_URL. With `announce`, and REDIS_URL set, a change is told to
 * every instance sharing Redis, as the HTTP routes tell it, so each drops the account from its key cache.
 */
async function withAccounts<T>(config: Config, announce: boolean, work: (accounts: AccountService) => Promise<T>): Promise<T> {
  return withDatabase(config, async (db: Kysely<Database>) => {
    const warn = { error: (_details: object, message: string) => console.error(`warning: ${message}`) };
    const revocations = announce && config.redisUrl ? await connectRedisKeyRevocations(config.redisUrl, config.redisKeyPrefix, warn) : undefined;
    try {
      // No cache: this process answers one command and exits.
      const accounts = await createAccountService(createAccountStore(db), { cacheSize: 1, cacheTtlMs: 0, revocations });
      return await work(accounts);
    } finally {
      await revocations?.close();
    }
  });
}

/** An account as --json writes it. */
function accountJson({ account, keyPrefix, workingKeyHash }: AccountWithKey, config: Config) {
  return {
    id: account.id,
    email: account.email,
    name: account.name,
    last_name: account.last_name,
    created_at: new Date(account.created_at).toISOString(),
    key_prefix: keyPrefix ?? null,
    has_working_key: workingKeyHash !== undefined,
    allowance: account.allowance?.text ?? null,
    rate: allowanceOf(account, config.throttle).text,
  };
}

/** The rate the account is throttled at, and where it comes from. */
function rateText(found: AccountWithKey, config: Config): string {
  return found.account.allowance ? `${found.account.allowance.text} (its own)` : `${config.throttle.user.text} (THROTTLE_USER)`;
}

/** How soon instances see a change to an account, as this deployment is set up. */
function whenEffective(config: Config): string {
  if (config.redisUrl) return 'every instance sharing Redis drops the cached account at once';
  return `a running instance sees it within AUTH_CACHE_SECONDS (${config.authCacheSeconds} s), when its cached key expires`;
}

const LIST_COLUMNS = ['id', 'created_at', 'key', 'working', 'rate', 'email', 'name'];
const LIST_WIDTHS = [8, 21, 9, 8, 26];

/** A line of the list: the fixed-width columns first, so a long email or name leaves them aligned. */
function listLine(cells: string[]): string {
  return cells.map((cell, i) => (LIST_WIDTHS[i] ? cell.padEnd(LIST_WIDTHS[i]! - 1) : cell)).join(' ');
}

export const accountsListCommand: Command = {
  name: 'accounts list',
  synopsis: '[--json]',
  summary: 'every account, newest first, with its key and its rate',
  details: `Writes one line per account, newest first, as it reads them (constant memory):
  id  created_at  key (prefix of the working key, else of the last one)  working (yes/no)
  rate (its own allowance, or THROTTLE_USER's)  email  name

  --json    a JSON array instead, one object per account:
            {"id", "email", "name", "last_name", "created_at", "key_prefix", "has_working_key",
             "allowance" (its own rate, or null), "rate" (the rate it is throttled at)}

Example:
  npm run cli -- accounts list --json`,
  async run(args, config) {
    const { values } = readArguments('accounts list', args, { json: { type: 'boolean' } }, { min: 0, max: 0, names: '' });
    await withAccounts(config(), false, async (accounts) => {
      let first = true;
      if (values.json) process.stdout.write('[');
      else process.stdout.write(`${listLine(LIST_COLUMNS)}\n`);
      for await (const found of accounts.listNewestFirst()) {
        if (values.json) {
          process.stdout.write(`${first ? '\n' : ',\n'}${JSON.stringify(accountJson(found, config()))}`);
        } else {
          const { account, keyPrefix, workingKeyHash } = found;
          const created = new Date(account.created_at).toISOString().replace(/\.\d+Z$/, 'Z');
          const rate = account.allowance?.text ?? `${config().throttle.user.text} (default)`;
          process.stdout.write(`${listLine([String(account.id), created, keyPrefix ?? '-', workingKeyHash ? 'yes' : 'no', rate, account.email, `${account.name} ${account.last_name}`])}\n`);
        }
        first = false;
      }
      if (values.json) process.stdout.write(first ? ']\n' : '\n]\n');
    });
  },
};

export const accountsFindCommand: Command = {
  name: 'accounts find',
  synopsis: 'EMAIL [--json]',
  summary: 'the account registered with EMAIL (compared as registration compares emails)',
  details: `Finds the account whose email is EMAIL as registration compares emails: whatever the case,
and in Unicode's compatibility form (fullwidth letters, ligatures), so "DAVE@Example.com" finds
dave@example.com. Writes its fields one per line, or with --json one object as accounts list
--json writes them. Exit 1 when no account has the email.

Example:
  npm run cli -- accounts find dave@example.com`,
  async run(args, config) {
    const { values, positionals } = readArguments('accounts find', args, { json: { type: 'boolean' } }, { min: 1, max: 1, names: 'one EMAIL' });
    const found = await withAccounts(config(), false, (accounts) => accounts.findByEmail(positionals[0]!));
    if (!found) throw new CommandFailedError(`No account is registered with the email ${positionals[0]!.trim()}.`);
    const json = accountJson(found, config());
    if (values.json) return console.log(JSON.stringify(json, null, 2));
    const fields: [string, string][] = [
      ['id', String(json.id)],
      ['email', json.email],
      ['name', `${json.name} ${json.last_name}`],
      ['created_at', json.created_at],
      ['key_prefix', json.key_prefix ?? '-'],
      ['working_key', json.has_working_key ? 'yes' : 'no (revoked)'],
      ['rate', rateText(found, config())],
    ];
    console.log(fields.map(([name, value]) => `${name.padEnd(12)}${value}`).join('\n'));
  },
};

async function revokeKey(command: string, args: string[], config: () => Config): Promise<void> {
  const { positionals } = readArguments(command, args, {}, { min: 1, max: 1, names: 'one EMAIL' });
  const revoked = await withAccounts(config(), true, (accounts) => accounts.revokeKeyOf(positionals[0]!));
  console.log(`Revoked the key ${revoked.keyPrefix ?? ''}… of ${revoked.account.email} (account ${revoked.account.id}): ${whenEffective(config())}.`);
}

const REVOKE_DETAILS = `Revokes the working key of the account registered with EMAIL (compared as registration
compares emails), as POST /api/v1/keys/revoke/ does: the key answers 401 from then on, and the
account keeps no working key (it registers again for a new one). With REDIS_URL set, every
instance sharing Redis drops the key from its cache at once; without it, a running instance may
accept the key for up to AUTH_CACHE_SECONDS (default 30) more.
Exit 1 when no account has the email, or when its key was revoked already.

Example:
  npm run cli -- keys revoke dave@example.com`;

export const keysRevokeCommand: Command = {
  name: 'keys revoke',
  synopsis: 'EMAIL',
  summary: "revoke the working API key of the account registered with EMAIL",
  details: REVOKE_DETAILS,
  run: (args, config) => revokeKey('keys revoke', args, config),
};

export const accountsRevokeKeyCommand: Command = {
  name: 'accounts revoke-key',
  synopsis: 'EMAIL',
  summary: 'the same as keys revoke EMAIL',
  details: REVOKE_DETAILS,
  run: (args, config) => revokeKey('accounts revoke-key', args, config),
};

export const accountsSetAllowanceCommand: Command = {
  name: 'accounts set-allowance',
  synopsis: 'EMAIL RATE | EMAIL --clear',
  summary: "give one account its own rate in place of THROTTLE_USER (or --clear it)",
  details: `Gives the account registered with EMAIL its own rate, which the throttle applies to it in
place of THROTTLE_USER, on either rate-limit store (memory or Redis) and in every instance; its
/api/v1/me/ shows it as usage.rate. What the account spent in the current window still counts.

  RATE      THROTTLE_USER's syntax: N/second, N/minute, N/hour or N/day, N ≥ 1 ("5000/day")
  --clear   remove the account's own rate: THROTTLE_USER applies again

With REDIS_URL set, every instance sharing Redis reads the account afresh on its next request;
without it, a running instance applies the change within AUTH_CACHE_SECONDS (default 30).
Exit 1 when no account has the email.

Examples:
  npm run cli -- accounts set-allowance dave@example.com 5000/day
  npm run cli -- accounts set-allowance dave@example.com --clear`,
  async run(args, config) {
    const { values, positionals } = readArguments('accounts set-allowance', args, { clear: { type: 'boolean' } }, { min: 1, max: 2, names: 'EMAIL and RATE, or EMAIL --clear' });
    const [email, rateText] = positionals as [string, string | undefined];
    if ((rateText === undefined) === !values.clear) throw new UsageError('accounts set-allowance takes EMAIL and RATE, or EMAIL --clear');
    const rate = rateText === undefined ? undefined : parseRate(rateText);
    if (rateText !== undefined && !rate) throw new UsageError(`accounts set-allowance: RATE must be ${RATE_SYNTAX} (got ${JSON.stringify(rateText)})`);
    const account = await withAccounts(config(), true, (accounts) => accounts.setAllowance(email, rate));
    const now = rate ? `its own rate is ${rate.text}` : `it has THROTTLE_USER's rate again (${config().throttle.user.text})`;
    console.log(`Account ${account.id} (${account.email}): ${now}; ${whenEffective(config())}.`);
  },
};
