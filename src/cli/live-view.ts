import type { DemoProvider } from './clients/index.js';
import type { ProviderRow } from './live-stats.js';

/**
 * The demo's screen. On a terminal: a table redrawn in place each second, with the last events under it. Anywhere
 * else (a pipe, a CI log, a test): plain lines, one per provider per second and one per event, never an escape code.
 */

export interface AlertLine {
  readonly name: string;
  /** Its distinguishing labels, `{provider="fcm",tier="1h"}`, or ''. */
  readonly target: string;
  readonly state: 'pending' | 'firing' | 'resolved';
  /** When it entered this state (ms since the epoch). */
  readonly since: number;
  /** Alertmanager receivers that got it, from the demo's webhook. */
  readonly notified: readonly string[];
}

export interface ViewState {
  readonly elapsedMs: number;
  readonly header: readonly string[];
  readonly phase: string;
  readonly rows: readonly ProviderRow[];
  readonly faults: Readonly<Record<DemoProvider, string>>;
  readonly pruned: Readonly<Record<DemoProvider, number>>;
  /** The scenario has the sender's traffic loop stopped (a stall): nothing is being sent to any provider. */
  readonly stalled: boolean;
  /** Undefined when the demo runs without Prometheus; a string while it has nothing to say yet. */
  readonly alerts?: readonly AlertLine[] | string;
  /** Lines under the table: the device receipts funnel (cli/device-funnel.ts). */
  readonly funnel?: readonly string[];
}

const MAX_EVENTS = 8;

export function clock(ms: number): string {
  const seconds = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const mm = String(Math.floor((seconds % 3600) / 60)).padStart(2, '0');
  const ss = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

const percent = (ratio: number | undefined): string => (ratio === undefined ? '-' : `${(ratio * 100).toFixed(1)}%`);
const latency = (seconds: number | undefined): string =>
  seconds === undefined ? '-' : seconds < 1 ? `${Math.round(seconds * 1000)} ms` : `${seconds.toFixed(1)} s`;
const errors = (row: ProviderRow): string =>
  row.topErrors.length === 0
    ? '-'
    : row.topErrors
        .slice(0, 2)
        .map(({ type, share }) => `${type} ${Math.round(share * 100)}%`)
        .join(', ');
/**
 * What the sender is doing with a provider: `stalled` (it sends nothing), `hung` (calls in flight, none completing)
 * or `sending`. Failures are not a state here: they have their own columns.
 */
export function senderState(row: ProviderRow, stalled: boolean): 'stalled' | 'hung' | 'sending' {
  return stalled ? 'stalled' : row.stuck ? 'hung' : 'sending';
}

export class LiveView {
  readonly #out: NodeJS.WritableStream & { columns?: number };
  readonly #tty: boolean;
  #start = Date.now();
  readonly #events: string[] = [];
  #drawn = false;

  constructor(out: NodeJS.WritableStream & { columns?: number; isTTY?: boolean }) {
    this.#out = out;
    this.#tty = out.isTTY === true;
  }

  /** Sets the clock events are stamped with: the moment traffic starts. */
  startClock(at: number): void {
    this.#start = at;
  }

  get tty(): boolean {
    return this.#tty;
  }

  /** A line that is printed once (plain) or kept under the table (terminal). */
  event(text: string): void {
    const line = `[${clock(Date.now() - this.#start)}] ${text}`;
    if (!this.#tty) {
      this.#out.write(`${line}\n`);
      return;
    }
    this.#events.push(line);
    if (this.#events.length > MAX_EVENTS) this.#events.shift();
  }

  render(state: ViewState): void {
    if (this.#tty) this.#redraw(this.#table(state));
    else this.#out.write(`${this.#plain(state).join('\n')}\n`);
  }

  /** Leaves the last table on screen and puts the cursor under it. */
  close(): void {
    if (this.#tty && this.#drawn) this.#out.write('\n');
  }

  #plain(state: ViewState): string[] {
    const at = `[${clock(state.elapsedMs)}]`;
    return [
      ...state.rows.map(
        (row) =>
          `${at} ${row.provider.padEnd(7)} ${row.perSecond.toFixed(1).padStart(5)} msg/s  accepted ${percent(row.acceptance).padStart(6)}  p95 ${latency(row.p95).padStart(7)}  ` +
          `in flight ${String(row.inFlight).padStart(3)}  ${senderState(row, state.stalled).padEnd(7)}  errors ${errors(row)}  fault ${state.faults[row.provider]}`,
      ),
      ...(state.funnel ?? []).map((line) => `${at} ${line}`),
    ];
  }

  #table(state: ViewState): string[] {
    const head = ['provider', 'msg/s', 'accepted', 'top errors', 'p95', 'in flight', 'sender', 'pruned', 'fault now'];
    const body = state.rows.map((row) => [
      row.provider,
      row.perSecond.toFixed(1),
      percent(row.acceptance),
      errors(row),
      latency(row.p95),
      String(row.inFlight),
      senderState(row, state.stalled),
      String(state.pruned[row.provider]),
      state.faults[row.provider],
    ]);
    const widths = head.map((title, i) => Math.max(title.length, ...body.map((cells) => (cells[i] as string).length)));
    const right = new Set([1, 2, 4, 5, 7]);
    const line = (cells: readonly string[]) =>
      cells
        .map((cell, i) => (right.has(i) ? cell.padStart(widths[i] as number) : cell.padEnd(widths[i] as number)))
        .join('  ')
        .trimEnd();
    const lines = [...state.header, `${clock(state.elapsedMs)}  ${state.phase}`, '', line(head), ...body.map(line), ''];
    if (state.funnel !== undefined) lines.push(...state.funnel, '');
    if (state.alerts !== undefined) {
      lines.push('alerts (Prometheus /api/v1/alerts, Alertmanager webhook):');
      if (typeof state.alerts === 'string') lines.push(`  ${state.alerts}`);
      else if (state.alerts.length === 0) lines.push('  none pending or firing');
      else {
        const width = Math.max(...state.alerts.map((alert) => alert.name.length + alert.target.length));
        for (const alert of state.alerts) {
          const paged = alert.notified.length > 0 ? `  → ${alert.notified.join(', ')}` : '';
          lines.push(
            `  ${alert.state.toUpperCase().padEnd(8)} ${`${alert.name}${alert.target}`.padEnd(width)}  since ${clock(alert.since - this.#start)}${paged}`,
          );
        }
      }
      lines.push('');
    }
    lines.push('events:', ...this.#events.map((event) => `  ${event}`), '', 'Ctrl-C to stop');
    return lines;
  }

  #redraw(lines: readonly string[]): void {
    const width = this.#out.columns ?? 120;
    // Home, then each line cleared to its end, then everything below: no flicker, no scrollback spam.
    const text = lines.map((line) => `${line.length > width ? line.slice(0, width - 1) : line}\x1b[K`).join('\n');
    this.#out.write(`${this.#drawn ? '\x1b[H' : '\x1b[H\x1b[2J'}${text}\x1b[J`);
    this.#drawn = true;
  }
}
