import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { apiKeyFormat, hashApiKey, untaggedKeys } from '../../src/app/api-keys.js';

const SECRET = randomBytes(32).toString('hex');

describe('API key format', () => {
  it('when a key is issued, then it is 40 lowercase hex digits with a right tag, stored as its hash and first 8 digits', () => {
    const format = apiKeyFormat(SECRET);
    const keys = Array.from({ length: 200 }, () => format.issue());
    for (const { key, stored } of keys) {
      expect(key).toMatch(/^[0-9a-f]{40}$/);
      expect(stored).toEqual({ keyHash: hashApiKey(key), prefix: key.slice(0, 8) });
      expect(format.hasRightTag(key)).toBe(true);
    }
    expect(new Set(keys.map(({ key }) => key)).size).toBe(200);
  });

  it('when any one digit of an issued key is changed, then its tag is wrong', () => {
    const format = apiKeyFormat(SECRET);
    const { key } = format.issue();
    for (let i = 0; i < key.length; i++) {
      const digit = key[i] === '0' ? '1' : '0';
      expect(format.hasRightTag(key.slice(0, i) + digit + key.slice(i + 1)), `digit ${i}`).toBe(false);
    }
  });

  it('when a key was issued under another secret, or is upper case, short, long or not hex, then its tag is wrong', () => {
    const format = apiKeyFormat(SECRET);
    const { key } = apiKeyFormat(randomBytes(32).toString('hex')).issue();
    const own = format.issue().key;
    for (const other of [key, own.toUpperCase(), own.slice(0, 39), `${own}0`, `${own.slice(0, 39)}g`, '', `${own.slice(0, 20)}\u0000${own.slice(21)}`]) {
      expect(format.hasRightTag(other), JSON.stringify(other)).toBe(false);
    }
  });

  it('when the secret is shorter than 128 bits or not hex, then the format refuses it', () => {
    for (const secret of ['ab'.repeat(15), '', ` ${'ab'.repeat(16)}`, 'zz'.repeat(16), 'abc'.repeat(11)]) {
      expect(() => apiKeyFormat(secret), JSON.stringify(secret)).toThrow(/hex, of at least 128 bits/);
    }
  });
});

describe('untagged keys', () => {
  it('when keys were issued before tags, then each is known by its hash, no other key is, and keys added later are too', () => {
    const hashesOf = (count: number) => Array.from({ length: count }, () => hashApiKey(randomBytes(20).toString('hex')));
    const [issued, others, later] = [hashesOf(1000), hashesOf(1000), hashesOf(10)];
    const index = untaggedKeys(issued);
    expect(issued.every(index.has)).toBe(true);
    expect(others.filter(index.has)).toEqual([]);
    expect(later.filter(index.has)).toEqual([]);
    index.add([...later, ...issued.slice(0, 5)]);
    expect([...issued, ...later].every(index.has)).toBe(true);
    expect(others.filter(index.has)).toEqual([]);
  });
});
