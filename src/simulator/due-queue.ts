import type { DeviceReceiptEvent } from '../metrics/contract.js';
import type { ReceiptStamp } from '../delivery/stamp.js';

/** A receipt a fake device will post at `dueAt` (ms since the epoch). */
export interface DueReceipt {
  readonly dueAt: number;
  readonly stamp: ReceiptStamp;
  readonly event: DeviceReceiptEvent;
}

/** A min-heap of receipts by due time: one timer serves them all, however many are waiting. */
export class DueQueue {
  readonly #items: DueReceipt[] = [];

  get size(): number {
    return this.#items.length;
  }

  push(item: DueReceipt): void {
    const items = this.#items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if ((items[parent] as DueReceipt).dueAt <= item.dueAt) break;
      items[i] = items[parent] as DueReceipt;
      i = parent;
    }
    items[i] = item;
  }

  /** Removes and returns the earliest item due by `now`. */
  popDue(now: number): DueReceipt | undefined {
    const items = this.#items;
    const first = items[0];
    if (first === undefined || first.dueAt > now) return undefined;
    const last = items.pop() as DueReceipt;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const right = left + 1;
        const child =
          right < items.length && (items[right] as DueReceipt).dueAt < (items[left] as DueReceipt).dueAt ? right : left;
        if ((items[child] as DueReceipt).dueAt >= last.dueAt) break;
        items[i] = items[child] as DueReceipt;
        i = child;
      }
      items[i] = last;
    }
    return first;
  }

  clear(): void {
    this.#items.length = 0;
  }
}
