/**
 * The items with one per key, the last given winning, in first-seen order.
 * An upsert whose rows repeat a key is refused by PostgreSQL ("ON CONFLICT
 * DO UPDATE command cannot affect row a second time") yet taken by SQLite:
 * a vendor answering one date twice must not fail on one engine only.
 */
export function lastPerKey<T>(items: readonly T[], keyOf: (item: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(keyOf(item), item);
  return [...byKey.values()];
}
