/**
 * When the last message was accepted, as wall-clock Unix time, stamped on the send path without reading the wall
 * clock on every call (Date.now() costs as much as the rest of a metrics-only send; see docs/performance.md). The
 * wall clock is read at most once per millisecond of monotonic time, and the success's own monotonic offset from
 * that read is added: so a wall-clock step (NTP, a resumed VM) is picked up by the next success a millisecond on,
 * where `performance.timeOrigin + now()` would stay wrong for the life of the process.
 */
export class SuccessClock {
  /** performance.now() of the last success. */
  #at = Number.NaN;
  /** Date.now() as read at monotonic time #wallReadAt. */
  #wall = Number.NaN;
  #wallReadAt = Number.NEGATIVE_INFINITY;

  /** Records a success at monotonic time `now` (performance.now()). */
  stamp(now: number): void {
    this.#at = now;
    if (now - this.#wallReadAt >= 1) {
      this.#wall = Date.now();
      this.#wallReadAt = now;
    }
  }

  /** Unix seconds of the last success; NaN before the first. */
  unixSeconds(): number {
    return (this.#wall + (this.#at - this.#wallReadAt)) / 1000;
  }
}
