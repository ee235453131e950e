import { describe, expect, it } from 'vitest';
import { createFairQueue } from '../../../src/app/market-data/fair-queue.js';

/** Tasks that record when they start and finish only when the test says so. */
function heldTasks() {
  const started: string[] = [];
  const finishers = new Map<string, { finish(): void; fail(): void }>();
  const task = (name: string) => () => {
    started.push(name);
    return new Promise<string>((resolve, reject) => {
      finishers.set(name, { finish: () => resolve(name), fail: () => reject(new Error(`${name} failed`)) });
    });
  };
  /** Lets the event loop run the queue's reactions before the test looks again. */
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return {
    started,
    task,
    async finish(name: string) {
      finishers.get(name)!.finish();
      await settle();
    },
    async fail(name: string) {
      finishers.get(name)!.fail();
      await settle();
    },
    /** Finishes whatever runs, one at a time, until nothing is left. */
    async finishAll() {
      for (let done = 0; done < started.length; done++) await this.finish(started[done]!);
    },
  };
}

describe('the fair queue', () => {
  it('when the signal of a task still waiting aborts, then it is dropped with the reason and never runs, while the running one runs on', async () => {
    const queue = createFairQueue(1);
    const tasks = heldTasks();
    const gaveUp = new AbortController();
    const running = queue.run(['A'], tasks.task('a1'), 'a1', gaveUp.signal);
    const waiting = queue.run(['A'], tasks.task('a2'), 'a2', gaveUp.signal);
    const later = queue.run(['A'], tasks.task('a3'));
    const reason = new Error('nobody waits');
    gaveUp.abort(reason);
    await expect(waiting).rejects.toBe(reason);
    expect(queue.size).toBe(1);
    await tasks.finish('a1');
    await tasks.finish('a3');
    expect(tasks.started).toEqual(['a1', 'a3']);
    expect(await Promise.all([running, later])).toEqual(['a1', 'a3']);
  });

  it("when one client has 15 tasks queued and another queues one, then the other's runs right after the running one", async () => {
    const queue = createFairQueue(1);
    const tasks = heldTasks();
    const a = Array.from({ length: 15 }, (_, i) => queue.run(['A'], tasks.task(`a${i + 1}`)));
    const b = queue.run(['B'], tasks.task('b1'));
    expect(tasks.started).toEqual(['a1']);
    expect(queue.size).toBe(15);

    await tasks.finish('a1');
    expect(tasks.started).toEqual(['a1', 'b1']);

    await tasks.finishAll();
    expect(await b).toBe('b1');
    expect(await Promise.all(a)).toEqual(Array.from({ length: 15 }, (_, i) => `a${i + 1}`));
    expect(tasks.started).toEqual(['a1', 'b1', ...Array.from({ length: 14 }, (_, i) => `a${i + 2}`)]);
    expect(queue.size).toBe(0);
  });

  it('when several clients have tasks queued, then they take turns, each in the order they entered the round', async () => {
    const queue = createFairQueue(1);
    const tasks = heldTasks();
    for (const name of ['a1', 'a2', 'a3']) void queue.run(['A'], tasks.task(name));
    for (const name of ['b1', 'b2', 'b3']) void queue.run(['B'], tasks.task(name));
    void queue.run(['C'], tasks.task('c1'));
    await tasks.finishAll();
    expect(tasks.started).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3', 'b3']);
  });

  it('when a client just served queues again, then it waits for the others of its next round', async () => {
    const queue = createFairQueue(1);
    const tasks = heldTasks();
    for (const name of ['a1', 'a2', 'a3']) void queue.run(['A'], tasks.task(name));
    void queue.run(['B'], tasks.task('b1'));
    await tasks.finish('a1');
    expect(tasks.started).toEqual(['a1', 'b1']);
    void queue.run(['B'], tasks.task('b2')); // while b1 runs
    await tasks.finishAll();
    expect(tasks.started).toEqual(['a1', 'b1', 'a2', 'b2', 'a3']);
  });

  it("when a client whose call has finished queues again behind another's batch, then it goes before the batch's next call", async () => {
    const queue = createFairQueue(1);
    const tasks = heldTasks();
    void queue.run(['F'], tasks.task('f1'));
    for (const name of ['g1', 'g2', 'g3']) void queue.run(['G'], tasks.task(name)); // while f1 runs
    await tasks.finish('f1');
    expect(tasks.started).toEqual(['f1', 'g1']);
    void queue.run(['F'], tasks.task('f2')); // F has nothing queued or running: it waits only for g1
    await tasks.finishAll();
    expect(tasks.started).toEqual(['f1', 'g1', 'f2', 'g2', 'g3']);
  });

  it('when the limit is 2, then at most 2 tasks run at once and the next starts as one ends', async () => {
    const queue = createFairQueue(2);
    const tasks = heldTasks();
    for (const name of ['a1', 'a2', 'a3', 'a4']) void queue.run(['A'], tasks.task(name));
    expect(tasks.started).toEqual(['a1', 'a2']);
    expect(queue.size).toBe(2);
    await tasks.finish('a2');
    expect(tasks.started).toEqual(['a1', 'a2', 'a3']);
    expect(queue.size).toBe(1);
  });

  it('when a task fails, then only its caller sees the failure and the next task starts', async () => {
    const queue = createFairQueue(1);
    const tasks = heldTasks();
    const a1 = queue.run(['A'], tasks.task('a1')).catch((error: Error) => error);
    const a2 = queue.run(['A'], tasks.task('a2'));
    await tasks.fail('a1');
    expect(await a1).toEqual(new Error('a1 failed'));
    expect(tasks.started).toEqual(['a1', 'a2']);
    await tasks.finish('a2');
    expect(await a2).toBe('a2');
  });

  it("when another client joins a task queued deep in one client's lane, then it runs at the joiner's turn, once", async () => {
    const queue = createFairQueue(1);
    const tasks = heldTasks();
    const a = ['a1', 'a2', 'a3', 'a4', 'a5'].map((name) => queue.run(['A'], tasks.task(name), name));
    queue.join('a4', 'B');
    expect(queue.size).toBe(4);
    expect(queue.waitingClients).toBe(2);
    await tasks.finish('a1');
    expect(tasks.started).toEqual(['a1', 'a4']);
    await tasks.finishAll();
    expect(tasks.started).toEqual(['a1', 'a4', 'a2', 'a3', 'a5']);
    expect(await Promise.all(a)).toEqual(['a1', 'a2', 'a3', 'a4', 'a5']);
  });

  it('when a task waits for two clients, then it uses the turn of the one that comes first and not the other', async () => {
    const queue = createFairQueue(1);
    const tasks = heldTasks();
    for (const name of ['a1', 'a2']) void queue.run(['A'], tasks.task(name));
    void queue.run(['B', 'C'], tasks.task('bc'));
    void queue.run(['C'], tasks.task('c1'));
    await tasks.finishAll();
    // bc ran at B's turn, so C's turn is still its own.
    expect(tasks.started).toEqual(['a1', 'bc', 'c1', 'a2']);
  });

  it('when a client joins a key with nothing queued under it, then nothing changes', async () => {
    const queue = createFairQueue(1);
    const tasks = heldTasks();
    void queue.run(['A'], tasks.task('a1'), 'running');
    queue.join('running', 'B');
    queue.join('never-queued', 'B');
    expect(queue.size).toBe(0);
    await tasks.finishAll();
    expect(tasks.started).toEqual(['a1']);
  });
});
