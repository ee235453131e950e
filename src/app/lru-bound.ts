/**
 * LRUCache options for a cache of at most `entries` entries that allocates as it fills.
 * lru-cache's `max` allocates its index arrays for every entry up front (about 3 MB
 * across this service's caches, held from start); `maxSize` with each entry counted
 * as 1 is the same bound — the least recently used entry is evicted past it — without them.
 */
export function upTo(entries: number): { maxSize: number; sizeCalculation: () => number } {
  return { maxSize: entries, sizeCalculation: one };
}

const one = () => 1;
