import { describe, expect, it } from 'vitest';
import { isUnavailability } from '../../src/adapters/db/unavailable.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('what counts as the database being away', () => {
  it.each([
    ['a refused connection', withCode('ECONNREFUSED')],
    ['a reset connection', withCode('ECONNRESET')],
    ['a connection closed under a query', new Error('Connection terminated unexpectedly')],
    ['a full pool that gave up waiting', new Error('timeout exceeded when trying to connect')],
    ['a restart (admin shutdown)', withCode('57P01', 'terminating connection due to administrator command')],
    ['a crash shutdown', withCode('57P02')],
    ['a server still starting', withCode('57P03', 'the database system is starting up')],
    ['the connection-exception class', withCode('08006')],
    ['a statement timeout', withCode('57014', 'canceling statement due to statement timeout')],
    ['too many connections', withCode('53300')],
    ['SQLite locked past its busy timeout', withCode('SQLITE_BUSY', 'database is locked')],
  ])('%s is unavailability (503)', (_, error) => {
    expect(isUnavailability(error)).toBe(true);
  });

  it.each([
    ['a unique violation', withCode('23505')],
    ['a syntax error (our bug)', withCode('42601')],
    ['a SQLite constraint', withCode('SQLITE_CONSTRAINT_UNIQUE')],
    ['a plain error', new Error('boom')],
    ['not an error at all', 'ECONNRESET'],
  ])('%s is not', (_, error) => {
    expect(isUnavailability(error)).toBe(false);
  });
});
