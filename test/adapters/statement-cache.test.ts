import { createRequire } from 'node:module';
import type SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { reusingStatements } from '../../src/adapters/db/statement-cache.js';

const onNode20 = Number(process.versions.node.split('.')[0]) < 22;
const SQLiteDatabase = createRequire(import.meta.url)(onNode20 ? 'better-sqlite3-node20' : 'better-sqlite3') as typeof SQLite;

function database() {
  const sqlite = new SQLiteDatabase(':memory:');
  sqlite.exec('create table t (id integer primary key, v text); insert into t values (1, \'a\'), (2, \'b\'), (3, \'c\')');
  return sqlite;
}

describe('SQLite statements reused per SQL text', () => {
  it('prepares a SQL text once', () => {
    const cached = reusingStatements(database());
    expect(cached.prepare('select v from t where id = ?')).toBe(cached.prepare('select v from t where id = ?'));
    expect(cached.prepare('select v from t where id = ?')).not.toBe(cached.prepare('select id from t where v = ?'));
  });

  it('prepares a fresh statement while the kept one is being iterated', () => {
    const cached = reusingStatements(database());
    const text = 'select v from t order by id';
    const iterating = cached.prepare(text) as SQLite.Statement;
    const rows = iterating.iterate();
    rows.next();
    const other = cached.prepare(text) as SQLite.Statement;
    expect(other).not.toBe(iterating);
    expect(other.all()).toEqual([{ v: 'a' }, { v: 'b' }, { v: 'c' }]);
    expect([...rows]).toEqual([{ v: 'b' }, { v: 'c' }]);
  });

  it('keeps at most the given number of statements, oldest out first', () => {
    const cached = reusingStatements(database(), 2);
    const first = cached.prepare('select 1');
    cached.prepare('select 2');
    cached.prepare('select 3');
    expect(cached.prepare('select 1')).not.toBe(first);
  });

  it('serves Kysely: a streamed read and a read of the same SQL inside it both complete', async () => {
    const db = new Kysely<{ t: { id: number; v: string } }>({ dialect: new SqliteDialect({ database: reusingStatements(database()) }) });
    const seen: string[] = [];
    for await (const row of db.selectFrom('t').select('v').where('id', '>', 0).orderBy('id').stream()) seen.push(row.v);
    expect(seen).toEqual(['a', 'b', 'c']);
    const again = await db.selectFrom('t').select('v').where('id', '>', 0).orderBy('id').execute();
    expect(again.map((row) => row.v)).toEqual(['a', 'b', 'c']);
    expect((await sql<{ n: number }>`select count(*) as n from t`.execute(db)).rows[0]?.n).toBe(3);
    await db.destroy();
  });
});
