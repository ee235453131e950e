/**
 * Request throttling: which limits a request counts against (per account,
 * per client address) and the port to where the counts live. The window
 * itself is domain/throttle.ts.
 */
import ipaddr from 'ipaddr.js';
import { LRUCache } from 'lru-cache';
import type { Account } from '../domain/account.js';
import type { Rate, ThrottleDecision } from '../domain/throttle.js';

/** Port: where request counts live — in-process, or Redis shared by every instance. */
export interface RateLimitStore {
  /**
   * Counts a request costing `cost` units (default 1) for `key` if `rate` allows
   * all of it; otherwise counts nothing. Rejects when the store is unreachable.
   */
  hit(key: string, rate: Rate, cost?: number): Promise<ThrottleDecision>;
  /**
   * Gives back `cost` units that a hit on `key` just counted (the newest first), for a request that
   * turned out not to spend them. Rejects when the store is unreachable.
   */
  refund(key: string, rate: Rate, cost?: number): Promise<void>;
  /** 'ok', or why the store cannot be used right now. */
  health(): 'ok' | 'unreachable';
  close(): Promise<void>;
}

/** Which limit a request counts against, DRF's scopes: per account, or per client address. */
export interface ThrottleScope {
  name: 'user' | 'anon' | 'register' | 'keys' | 'trades';
  key: string;
  rate: Rate;
  /**
   * Only a request answered with this status spends the allowance. It is still counted before the
   * request runs (so concurrent requests cannot pass the limit between a check and a count), and given
   * back when the answer is any other.
   */
  spentOnlyOn?: number;
}

/** The one answer that spends the registration allowance: an account was created. */
export const ACCOUNT_CREATED = 201;

export interface ThrottleRates {
  anon: Rate;
  user: Rate;
  register: Rate;
  /**
   * Rotations and revocations per account, on top of its own rate: each leaves a revoked key, which a
   * client may replay at the cost of a look-up each (app/accounts.ts), so how many it can collect is bounded.
   */
  keys: Rate;
  trades: Rate | undefined;
  /** Leading bits of an IPv6 address that name one client. */
  ipv6Prefix: number;
}

/** What the throttle needs of an account: its id, and the allowance an operator gave it, if any. */
type AllowanceHolder = Pick<Account, 'id' | 'allowance'>;

/**
 * An account's rate: its own allowance when an operator set one (`npm run cli -- accounts
 * set-allowance`), else THROTTLE_USER. Counted under the same key either way, so a change keeps
 * what the account already spent in the window.
 */
export function allowanceOf(account: AllowanceHolder, rates: Pick<ThrottleRates, 'user'>): Rate {
  return account.allowance ?? rates.user;
}

/** Client addresses whose counted form is kept worked out. */
const ADDRESSES_KEPT = 10_000;

/**
 * The one place that decides which allowances a request counts against.
 * Anyone without an account — no key, a wrong key, an unknown route — counts
 * against its address ('anon'); registration always counts against the
 * address, under 'anon' and its own 'register' rate, whatever key is sent (else
 * each new key would open a fresh allowance), and spends 'register' only when it
 * creates an account; an account counts against itself.
 */
export function throttleScopes(rates: ThrottleRates) {
  // Parsing an address with ipaddr.js on every request showed in a profile; a client sends many
  // requests from one address, so each address is worked out once. Bounded, as addresses are many.
  const addresses = new LRUCache<string, string>({ max: ADDRESSES_KEPT });
  const anonymous = (address: string): ThrottleScope => ({ name: 'anon', key: address, rate: rates.anon });
  return {
    anonymous,
    // Only a registration that creates an account spends THROTTLE_REGISTER: a refused one (a 400 for a bad or
    // taken email, a 409 for an Idempotency-Key already answered, which shows no key again) is given back,
    // so a newcomer's typos do not lock them out for a day. Every request still counts under 'anon'.
    registration: (address: string): ThrottleScope[] => [
      anonymous(address),
      { name: 'register', key: address, rate: rates.register, spentOnlyOn: ACCOUNT_CREATED },
    ],
    account: (account: AllowanceHolder): ThrottleScope => ({ name: 'user', key: String(account.id), rate: allowanceOf(account, rates) }),
    keyChange: (account: AllowanceHolder): ThrottleScope[] => [
      { name: 'user', key: String(account.id), rate: allowanceOf(account, rates) },
      { name: 'keys', key: String(account.id), rate: rates.keys },
    ],
    /** The ledger follows its own contract (no key): counted per address, unless THROTTLE_TRADES is off. */
    ledger: (address: string): ThrottleScope[] => (rates.trades ? [{ name: 'trades', key: address, rate: rates.trades }] : []),
    /** A client address as counted: IPv4 as is (IPv4-mapped IPv6 included), IPv6 by its network of `ipv6Prefix` bits. */
    addressOf(ip: string): string {
      let address = addresses.get(ip);
      if (address === undefined) addresses.set(ip, (address = clientAddress(ip, rates.ipv6Prefix)));
      return address;
    },
  };
}

export type ThrottleScopes = ReturnType<typeof throttleScopes>;

/**
 * One host usually holds a whole IPv6 /64 (SLAAC, privacy addresses), so
 * counting exact addresses would give it 2^64 allowances.
 */
export function clientAddress(ip: string, ipv6Prefix: number): string {
  if (!ipaddr.isValid(ip)) return ip;
  const address = ipaddr.process(ip); // ::ffff:1.2.3.4 becomes 1.2.3.4
  if (address.kind() === 'ipv4') return address.toString();
  const mask = ipaddr.IPv6.subnetMaskFromPrefixLength(ipv6Prefix).toByteArray();
  const network = ipaddr.fromByteArray(address.toByteArray().map((byte, i) => byte & mask[i]!));
  return `${network.toString()}/${ipv6Prefix}`;
}
