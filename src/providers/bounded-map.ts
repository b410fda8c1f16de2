/**
 * A Map that forgets its oldest keys past a capacity, in O(1). Evicting through `map.keys().next()` looks O(1) but is
 * not in V8: the iterator walks every slot deleted since the last rehash, which made each insert into a full map cost
 * far more than the rest of a send (bench/load.bench.ts found it; docs/performance.md). A ring of keys in insertion
 * order avoids iterating the map at all.
 */
export class BoundedMap<K, V> {
  readonly #entries = new Map<K, V>();
  readonly #ring: (K | undefined)[];
  #next = 0;

  constructor(readonly capacity: number) {
    this.#ring = new Array<K | undefined>(capacity);
  }

  set(key: K, value: V): void {
    const oldest = this.#ring[this.#next];
    // The oldest key may have been deleted (or set again) since; deleting it then is harmless or a slight early forget.
    if (oldest !== undefined && oldest !== key) this.#entries.delete(oldest);
    this.#ring[this.#next] = key;
    this.#next = (this.#next + 1) % this.capacity;
    this.#entries.set(key, value);
  }

  get(key: K): V | undefined {
    return this.#entries.get(key);
  }

  delete(key: K): boolean {
    return this.#entries.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
