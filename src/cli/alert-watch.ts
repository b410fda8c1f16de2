import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AlertLine } from './live-view.js';

/**
 * What the demo knows about alerts: Prometheus' /api/v1/alerts polled each second (pending, firing; gone means
 * resolved), and Alertmanager's webhook deliveries (which receiver was paged). Changes become one-line events.
 */

interface PromAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly state: string;
}

const RESOLVED_KEPT_MS = 60_000;
/** The labels that tell one instance of an alert from another in the demo: which provider, which burn-rate tier. */
const SHOWN_LABELS = ['provider', 'tier'] as const;

/** `{provider="fcm",tier="1h"}`, or '' for an alert about no provider. */
function target(labels: Readonly<Record<string, string>>): string {
  const shown = SHOWN_LABELS.filter((name) => labels[name] !== undefined).map(
    (name) => `${name}="${labels[name] as string}"`,
  );
  return shown.length === 0 ? '' : `{${shown.join(',')}}`;
}

const keyOf = (labels: Readonly<Record<string, string>>) => `${labels.alertname ?? '?'}${target(labels)}`;

export class AlertWatch {
  readonly #alerts = new Map<string, AlertLine>();
  readonly #sent = new Map<string, string>();
  readonly #onEvent: (text: string) => void;
  #poller: NodeJS.Timeout | undefined;

  constructor(onEvent: (text: string) => void) {
    this.#onEvent = onEvent;
  }

  /** Alerts pending or firing now, plus those resolved in the last minute, oldest first. */
  list(): readonly AlertLine[] {
    return [...this.#alerts.values()].sort((a, b) => a.since - b.since);
  }

  /** Polls Prometheus each second until stop(). */
  watch(prometheusUrl: string): void {
    this.#poller ??= setInterval(() => void this.#poll(prometheusUrl).catch(() => undefined), 1_000);
  }

  stop(): void {
    clearInterval(this.#poller);
  }

  async #poll(prometheusUrl: string): Promise<void> {
    const response = await fetch(`${prometheusUrl}/api/v1/alerts`, { signal: AbortSignal.timeout(2_000) });
    const body = (await response.json()) as { data?: { alerts?: PromAlert[] } };
    const now = Date.now();
    const seen = new Set<string>();
    for (const alert of body.data?.alerts ?? []) {
      const state = alert.state === 'firing' ? 'firing' : 'pending';
      const key = keyOf(alert.labels);
      seen.add(key);
      const known = this.#alerts.get(key);
      if (known?.state === state) continue;
      const notified = known === undefined || known.state === 'resolved' ? [] : known.notified;
      this.#alerts.set(key, {
        name: alert.labels.alertname ?? '?',
        target: target(alert.labels),
        state,
        since: now,
        notified,
      });
      this.#onEvent(
        `alert ${state.toUpperCase()}: ${key}${alert.labels.severity ? ` (${alert.labels.severity})` : ''}`,
      );
    }
    for (const [key, alert] of this.#alerts) {
      if (seen.has(key)) continue;
      if (alert.state !== 'resolved') {
        this.#alerts.set(key, { ...alert, state: 'resolved', since: now });
        this.#onEvent(`alert RESOLVED: ${key}`);
      } else if (now - alert.since > RESOLVED_KEPT_MS) {
        this.#alerts.delete(key);
      }
    }
  }

  /** One alert of a webhook delivery. Alertmanager re-sends a group whenever it changes; only a new status is news. */
  #delivered(receiver: string, status: string, labels: Readonly<Record<string, string>>): void {
    const key = keyOf(labels);
    const known = this.#alerts.get(key);
    if (known !== undefined && !known.notified.includes(receiver))
      this.#alerts.set(key, { ...known, notified: [...known.notified, receiver] });
    if (this.#sent.get(`${receiver} ${key}`) === status) return;
    this.#sent.set(`${receiver} ${key}`, status);
    this.#onEvent(`Alertmanager → ${receiver}: ${status} ${key}`);
  }

  /** The webhook every receiver is rewritten to: `{ receiver, alerts: [{ status, labels }] }` posts. Resolves with its URL. */
  async listen(): Promise<{ readonly url: string; close(): Promise<void> }> {
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        try {
          const payload = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
            receiver?: string;
            alerts?: Array<{ status?: string; labels?: Record<string, string> }>;
          };
          for (const alert of payload.alerts ?? [])
            this.#delivered(payload.receiver ?? '?', alert.status ?? '?', alert.labels ?? {});
        } catch {
          // Not from Alertmanager: nothing to show.
        }
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/alertmanager`,
      close: () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    };
  }
}

/** Waits (up to 15 s) until Prometheus has scraped the demo, then one more evaluation, so no alert sees "no target". */
export async function firstScrape(prometheusUrl: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(
        `${prometheusUrl}/api/v1/query?query=${encodeURIComponent('up{job="push-sender"} == 1')}`,
        { signal: AbortSignal.timeout(1_000) },
      );
      const body = (await response.json()) as { data?: { result?: unknown[] } };
      if ((body.data?.result?.length ?? 0) > 0) break;
    } catch {
      // not answering yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000));
}
