/**
 * The Expo adapter's ticket memory (src/providers/expo-tickets.ts) on its own: what a send pays to remember a ticket,
 * and what the first receipts lookup afterwards pays to index them. Ids and tokens are parsed from JSON, as the SDK
 * and a request body hand them over, so they are the flat strings the adapter really sees.
 *
 * A send is timed twice: into a fresh memory, whose ring is allocated as the tickets reach it (so the time includes
 * that, and the GC it may set off), and once more into the same memory, as every send after the first ~100,000 is.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { TicketTokens } from '../src/providers/expo-tickets.js';
import { median } from './harness.js';
import { info, type TargetLine } from './report.js';

const TICKETS = 100_000;
const ROUNDS = 5;

function tickets(): { ids: string[]; tokens: string[] } {
  const ids = Array.from({ length: TICKETS }, () => randomUUID());
  const tokens = ids.map((_, i) => `ExponentPushToken[${i.toString(36).padStart(22, 'x')}]`);
  return JSON.parse(JSON.stringify({ ids, tokens })) as { ids: string[]; tokens: string[] };
}

export function measureTicketMemory(): TargetLine {
  const { ids, tokens } = tickets();
  const remember: number[] = [];
  const rememberAgain: number[] = [];
  const index: number[] = [];
  const take: number[] = [];
  let found = 0;
  // A fresh memory per round, so every round indexes the same 100,000 tickets; round 0 is the JIT's warm-up.
  for (let round = 0; round <= ROUNDS; round++) {
    const memory = new TicketTokens();
    let start = performance.now();
    for (let i = 0; i < TICKETS; i++) memory.remember(ids[i] as string, tokens[i] as string);
    const remembered = performance.now() - start;
    start = performance.now();
    const first = memory.take(ids[0] as string);
    const indexed = performance.now() - start;
    start = performance.now();
    for (let i = 1; i < TICKETS; i += 100) if (memory.take(ids[i] as string) === tokens[i]) found++;
    const taken = performance.now() - start;
    start = performance.now();
    for (let i = 0; i < TICKETS; i++) memory.remember(ids[i] as string, tokens[i] as string);
    const rememberedAgain = performance.now() - start;
    if (first !== tokens[0]) throw new Error('sanity check failed: the ticket memory lost the first ticket');
    if (round === 0) continue;
    remember.push((remembered * 1e6) / TICKETS);
    rememberAgain.push((rememberedAgain * 1e6) / TICKETS);
    index.push(indexed);
    take.push((taken * 1e6) / (TICKETS / 100));
  }
  if (found !== (ROUNDS + 1) * (TICKETS / 100))
    throw new Error(`sanity check failed: ${found} receipts found their token`);
  return info(
    'Expo ticket memory (onInvalidToken set)',
    `remember ${median(remember).toFixed(0)} ns/ticket on send (${median(rememberAgain).toFixed(0)} once the ring is allocated); first receipts lookup indexes ${TICKETS / 1000}k in ${median(index).toFixed(1)} ms; then ${median(take).toFixed(0)} ns/receipt`,
  );
}
