import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apiKeyFormat, hashApiKey } from '../../src/app/api-keys.js';

const SECRET = randomBytes(32).toString('hex');

describe('API key format', () => {
  it('when a key is issued, then it is 40 lowercase hex digits, may exist, and is stored as its hash and first 8 digits', () => {
    const format = apiKeyFormat(SECRET, []);
    const keys = Array.from({ length: 200 }, () => format.issue());
    for (const { key, stored } of keys) {
      expect(key).toMatch(/^[0-9a-f]{40}$/);
      expect(stored).toEqual({ keyHash: hashApiKey(key), prefix: key.slice(0, 8) });
      expect(format.mayExist(key, stored.keyHash)).toBe(true);
    }
    expect(new Set(keys.map(({ key }) => key)).size).toBe(200);
  });

  it('when any one digit of an issued key is changed, then it cannot exist', () => {
    const format = apiKeyFormat(SECRET, []);
    const { key } = format.issue();
    for (let i = 0; i < key.length; i++) {
      const digit = key[i] === '0' ? '1' : '0';
      const changed = key.slice(0, i) + digit + key.slice(i + 1);
      expect(format.mayExist(changed, hashApiKey(changed)), `digit ${i}`).toBe(false);
    }
  });

  it('when a key was issued under another secret, or is upper case, short, long or not hex, then it cannot exist', () => {
    const format = apiKeyFormat(SECRET, []);
    const { key } = apiKeyFormat(randomBytes(32).toString('hex'), []).issue();
    const own = format.issue().key;
    for (const other of [key, own.toUpperCase(), own.slice(0, 39), `${own}0`, `${own.slice(0, 39)}g`, '', `${own.slice(0, 20)}\u0000${own.slice(21)}`]) {
      expect(format.mayExist(other, hashApiKey(other)), JSON.stringify(other)).toBe(false);
    }
  });

  it('when a key was issued before tags, then it may exist by its hash alone, and no other untagged key does', () => {
    const legacy = Array.from({ length: 1000 }, () => randomBytes(20).toString('hex'));
    const format = apiKeyFormat(SECRET, legacy.map(hashApiKey));
    for (const key of legacy) expect(format.mayExist(key, hashApiKey(key))).toBe(true);
    const others = Array.from({ length: 1000 }, () => randomBytes(20).toString('hex'));
    expect(others.filter((key) => format.mayExist(key, hashApiKey(key)))).toEqual([]);
  });

  it('when the secret is shorter than 128 bits, then the format refuses it', () => {
    expect(() => apiKeyFormat('ab'.repeat(15), [])).toThrow(/at least 128 bits/);
  });
});
