/**
 * A small interleaved-rounds timing harness.
 *
 * Every variant is an async operation timed as `for (i < n) await op()`. All variants run once per round, in the same
 * order, so a burst of machine noise (another process, a GC, thermal throttling) lands on every variant of that round
 * rather than on one variant's whole measurement. The reported figure is the median round, which ignores the rounds
 * such noise did hit.
 *
 * The loop calls `op` through one shared call site, so that call is megamorphic for every variant alike: its few ns
 * are part of the bare call too, and cancel out of every "overhead over bare" figure.
 */

export interface Variant {
  readonly name: string;
  /** One operation; awaited, so the next iteration starts only once everything it scheduled has run. */
  readonly op: () => Promise<unknown>;
}

export interface HarnessOptions {
  /** Untimed passes over every variant before calibration, so the JIT has settled (and deopted) first. */
  readonly warmupPasses: number;
  /** Wall time one variant should take per round; sets each variant's iteration count. */
  readonly targetRoundMs: number;
  readonly rounds: number;
  /** Cap on iterations per round, whatever the calibration says. */
  readonly maxIterations: number;
}

export interface Measurement {
  readonly name: string;
  readonly iterationsPerRound: number;
  /** ns/op of every round, in round order. */
  readonly rounds: readonly number[];
  readonly medianNs: number;
  readonly minNs: number;
  readonly maxNs: number;
  /** Every iteration run, warm-up included: lets the caller check the telemetry counted each call. */
  readonly totalCalls: number;
}

/** Lets timers, I/O callbacks and the BatchSpanProcessor's scheduled work run between timed loops, not inside one. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs `op` n times back to back and returns the elapsed nanoseconds. */
async function timeLoop(op: () => Promise<unknown>, n: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await op();
  return Number(process.hrtime.bigint() - start);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Finds the iteration count that fills `targetMs`: grows n until one loop takes a measurable 20 ms (so timer
 * resolution and loop set-up are noise), then scales linearly.
 */
async function calibrate(variant: Variant, options: HarnessOptions, calls: Map<string, number>): Promise<number> {
  let n = 64;
  for (;;) {
    const ns = await timeLoop(variant.op, n);
    calls.set(variant.name, (calls.get(variant.name) ?? 0) + n);
    if (ns >= 20e6 || n >= options.maxIterations) {
      const wanted = Math.round((options.targetRoundMs * 1e6 * n) / ns);
      return Math.max(1, Math.min(options.maxIterations, wanted));
    }
    n *= 4;
  }
}

export async function runInterleaved(
  variants: readonly Variant[],
  options: HarnessOptions,
  onRound?: (round: number) => void,
): Promise<Measurement[]> {
  const calls = new Map<string, number>();
  const count = (name: string, n: number) => calls.set(name, (calls.get(name) ?? 0) + n);

  // Warm-up runs every variant before any is timed: several share instrumentSender's closure (and so its type
  // feedback), and a variant warmed alone would be optimised for a shape the others then invalidate mid-measurement.
  const warmupIterations = new Map<string, number>();
  for (const variant of variants)
    warmupIterations.set(
      variant.name,
      await calibrate(variant, { ...options, targetRoundMs: options.targetRoundMs / 2 }, calls),
    );
  for (let pass = 0; pass < options.warmupPasses; pass++) {
    for (const variant of variants) {
      const n = warmupIterations.get(variant.name) as number;
      await timeLoop(variant.op, n);
      count(variant.name, n);
      await yieldToEventLoop();
    }
  }

  // Calibrate again now that the code is hot: the cold estimate would give too few iterations per round.
  const iterations = new Map<string, number>();
  for (const variant of variants) {
    iterations.set(variant.name, await calibrate(variant, options, calls));
    await yieldToEventLoop();
  }

  const perRound = new Map<string, number[]>(variants.map((variant) => [variant.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const variant of variants) {
      const n = iterations.get(variant.name) as number;
      const ns = await timeLoop(variant.op, n);
      count(variant.name, n);
      perRound.get(variant.name)?.push(ns / n);
      await yieldToEventLoop();
    }
    onRound?.(round);
  }

  return variants.map((variant) => {
    const rounds = perRound.get(variant.name) as number[];
    return {
      name: variant.name,
      iterationsPerRound: iterations.get(variant.name) as number,
      rounds,
      medianNs: median(rounds),
      minNs: Math.min(...rounds),
      maxNs: Math.max(...rounds),
      totalCalls: calls.get(variant.name) as number,
    };
  });
}
