import { describe, expect, it } from 'vitest';
import { groupCommit } from '../../src/adapters/db/group-commit.js';

/** A store whose commits the test finishes or fails, recording each batch it was given. */
function heldStore(options: { maxBatch?: number; refuse?: (item: number) => boolean; retryAlone?: (error: unknown) => boolean } = {}) {
  const batches: number[][] = [];
  const held: { finish(): void; fail(error: Error): void }[] = [];
  const write = groupCommit<number, string>({
    maxBatch: options.maxBatch ?? 256,
    retryAlone: options.retryAlone ?? (() => true),
    commit: (items) => {
      batches.push(items);
      return new Promise<string[]>((resolve, reject) => {
        held.push({
          finish: () => {
            const refused = items.find((item) => options.refuse?.(item));
            if (refused === undefined) resolve(items.map((item) => `stored ${item}`));
            else reject(new Error(`refused ${refused}`));
          },
          fail: reject,
        });
      });
    },
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  /** Finishes every commit as it starts, until none is left. */
  async function finishAll() {
    for (let done = 0; ; done++) {
      await settle();
      if (done >= held.length) return;
      held[done]!.finish();
    }
  }
  return { write, batches, held, settle, finishAll };
}

describe('group commit', () => {
  it('when one write comes to an idle store, then it is committed at once, alone', async () => {
    const store = heldStore();
    const answer = store.write(1);
    await store.settle();
    expect(store.batches).toEqual([[1]]);
    store.held[0]!.finish();
    expect(await answer).toBe('stored 1');
  });

  it('when writes arrive while a commit runs, then they go together in the next one, in arrival order, each answered after its own commit', async () => {
    const store = heldStore();
    const first = store.write(1);
    await store.settle();
    const rest = [2, 3, 4].map((item) => store.write(item));
    let restAnswered = false;
    void Promise.all(rest).then(() => (restAnswered = true));
    store.held[0]!.finish();
    expect(await first).toBe('stored 1');
    await store.settle();
    expect(store.batches).toEqual([[1], [2, 3, 4]]);
    expect(restAnswered, 'not answered before their batch committed').toBe(false);
    store.held[1]!.finish();
    expect(await Promise.all(rest)).toEqual(['stored 2', 'stored 3', 'stored 4']);
  });

  it('when more writes wait than a batch takes, then they are split into batches of at most that many, in order', async () => {
    const store = heldStore({ maxBatch: 2 });
    const answers = [1, 2, 3, 4, 5].map((item) => store.write(item));
    await store.finishAll();
    expect(await Promise.all(answers)).toEqual([1, 2, 3, 4, 5].map((item) => `stored ${item}`));
    expect(store.batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('when the database refuses one write of a batch, then the others are committed alone, in order, and only it fails', async () => {
    const store = heldStore({ refuse: (item) => item === 3 });
    const answers = [1, 2, 3, 4].map((item) => store.write(item).catch((error: Error) => error.message));
    await store.finishAll();
    expect(await Promise.all(answers)).toEqual(['stored 1', 'stored 2', 'refused 3', 'stored 4']);
    expect(store.batches).toEqual([[1, 2, 3, 4], [1], [2], [3], [4]]);
  });

  it('when the database is away, then every write of the batch fails at once, without one retry each', async () => {
    const away = new Error('database away');
    const store = heldStore({ retryAlone: (error) => error !== away });
    const answers = [1, 2, 3].map((item) => store.write(item).catch((error: Error) => error.message));
    await store.settle();
    store.held[0]!.fail(away);
    expect(await Promise.all(answers)).toEqual(['database away', 'database away', 'database away']);
    expect(store.batches).toEqual([[1, 2, 3]]);
  });

  it('when a commit failed, then the next write is still committed', async () => {
    const store = heldStore({ retryAlone: () => false });
    const failed = store.write(1).catch((error: Error) => error.message);
    await store.settle();
    store.held[0]!.fail(new Error('gone'));
    expect(await failed).toBe('gone');
    const next = store.write(2);
    await store.finishAll();
    expect(await next).toBe('stored 2');
  });
});
