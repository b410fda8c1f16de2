import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type BrowserContext, type CDPSession, type Page, type Request } from 'playwright-core';
import {
  PushTelemetry,
  stampFcmMessage,
  stampWebPushPayload,
  startMetricsServer,
  type MetricsServer,
} from '../src/index.js';
import { signReceipt } from '../src/delivery/signature.js';
import { closedPort, parseExposition, valueOf } from './helpers.js';

/**
 * The service worker in real headless Chromium: a page on 127.0.0.1 registers it, the DevTools protocol delivers a
 * push to it (`ServiceWorker.deliverPushMessage`, no push service involved), and its receipts go, cross-origin, to the
 * receipts endpoint of a real metrics server, whose /metrics must move. Chromium is Debian's (scripts/ensure-tools.sh
 * installs it); without it these tests fail, they never skip.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const APP = 'com.example.web';
const SECRET = 'test-secret-of-at-least-thirty-two-characters';
const WORKER_DIR = new URL('../service-worker/', import.meta.url);

/** What the page functions below use of the browser (they run in Chromium; this tsconfig has no DOM lib). */
interface BrowserWorker {
  readonly state: string;
  addEventListener(type: 'statechange', listener: () => void): void;
  postMessage(message: unknown, transfer: unknown[]): void;
}
interface BrowserRegistration {
  readonly installing: BrowserWorker | null;
  readonly waiting: BrowserWorker | null;
  readonly active: BrowserWorker | null;
  getNotifications(): Promise<{ title: string; tag: string; data: unknown }[]>;
}
declare const navigator: {
  serviceWorker: {
    register(script: string, options: { scope: string; type: 'module' | 'classic' }): Promise<unknown>;
    getRegistration(scope: string): Promise<BrowserRegistration | undefined>;
  };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the workers reported going wrong (DevTools' ServiceWorker.workerErrorReported), for a timeout's message. */
const workerErrors: string[] = [];

/** `what` may be a function, to say in a timeout's message what was last seen. */
async function until<T>(
  what: string | (() => string),
  probe: () => Promise<T | undefined>,
  deadlineMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${deadlineMs} ms waiting for ${typeof what === 'string' ? what : what()}; worker errors: ${JSON.stringify(workerErrors)}`,
      );
    await sleep(50);
  }
}

/** The test's own worker code around the module: skipWaiting/claim, and a message hook the page drives it through. */
function testHooks(): string {
  return `
// The tags of the notifications shown so far. Chromium can leave out of getNotifications() a notification that was
// being shown while it read them, for good: the tests wait for this list, and read getNotifications() once after.
const shown = [];
const showNotification = self.registration.showNotification.bind(self.registration);
self.registration.showNotification = (title, options) =>
  showNotification(title, options).then((value) => (shown.push(options?.tag), value));
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
// DevTools has no way to click a notification: the page asks the worker to dispatch the click, with the real
// Notification it shows (a script-made NotificationEvent, which refuses waitUntil: the module must cope).
self.addEventListener('message', (event) => {
  const reply = (value) => event.ports[0].postMessage(value);
  event.waitUntil((async () => {
    if (event.data.ask === 'errors') return reply(errors);
    if (event.data.ask === 'shown') return reply(shown);
    if (event.data.ask === 'click') {
      const [notification] = await self.registration.getNotifications({ tag: event.data.tag });
      if (notification === undefined) return reply('no notification');
      self.dispatchEvent(new NotificationEvent('notificationclick', { notification }));
      return reply('clicked');
    }
  })());
});`;
}

/** The worker scripts: `/<variant>/sw.js?endpoint=…`, each registered with its folder as scope. */
function workerSource(variant: string): string | undefined {
  const options = `{
  endpoint: new URL(self.location.href).searchParams.get('endpoint'),
  onError: (error, { event }) => errors.push(event + ': ' + error.name),
}`;
  if (variant === 'module' || variant === 'offline')
    return `import { installPushTelemetry } from '/push-telemetry/index.js';
const errors = [];
installPushTelemetry(${options});${testHooks()}`;
  if (variant === 'classic')
    return `importScripts('/push-telemetry/classic.js');
const errors = [];
self.pushTelemetry.installPushTelemetry(${options});${testHooks()}`;
  return undefined;
}

/** The page's origin: an HTML page, the shipped worker files, and the test workers. */
function startPageServer(): Promise<{ server: http.Server; origin: string }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const javascript = (text: string) => res.writeHead(200, { 'content-type': 'text/javascript' }).end(text);
    if (url.pathname === '/') return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html>');
    const shipped = /^\/push-telemetry\/(index|classic)\.js$/.exec(url.pathname);
    if (shipped) return javascript(readFileSync(new URL(`${shipped[1]}.js`, WORKER_DIR), 'utf8'));
    const worker = /^\/(\w+)\/sw\.js$/.exec(url.pathname);
    const source = worker && workerSource(worker[1] as string);
    if (source) return javascript(source);
    res.writeHead(404).end();
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }),
    ),
  );
}

describe('the service worker in headless Chromium', () => {
  let page: http.Server;
  let origin: string;
  let telemetry: PushTelemetry;
  let metrics: MetricsServer;
  let browser: Browser;
  let context: BrowserContext;
  let tab: Page;
  let cdp: CDPSession;
  let endpoint: string;
  const registrations = new Map<string, string>();
  const receiptRequests: { url: string; body: string }[] = [];

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `Chromium is not at ${CHROMIUM}: run bash scripts/ensure-tools.sh`);
    ({ server: page, origin } = await startPageServer());
    telemetry = new PushTelemetry();
    metrics = await startMetricsServer({
      telemetry,
      port: 0,
      receipts: { apps: [APP], secret: SECRET, cors: { origins: [origin] } },
    });
    endpoint = `${metrics.url}/v1/receipts`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // A container's /dev/shm can be a few MiB: Chromium then writes its shared memory files to /tmp instead.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-dev-shm-usage',
        '--disable-background-networking',
        '--disable-component-update',
      ],
    });
    context = await browser.newContext();
    await context.grantPermissions(['notifications'], { origin });
    // Every request a worker makes, in the order Chromium started them.
    context.on('request', (request: Request) => {
      if (request.url().includes('/v1/receipts') && request.method() === 'POST')
        receiptRequests.push({ url: request.url(), body: request.postData() ?? '' });
    });
    tab = await context.newPage();
    await tab.goto(`${origin}/`);
    cdp = await context.newCDPSession(tab);
    cdp.on('ServiceWorker.workerErrorReported', ({ errorMessage }) =>
      workerErrors.push(`${errorMessage.sourceURL}:${errorMessage.lineNumber} ${errorMessage.errorMessage}`),
    );
    cdp.on('ServiceWorker.workerRegistrationUpdated', ({ registrations: updated }) => {
      for (const { registrationId, scopeURL, isDeleted } of updated)
        if (isDeleted) registrations.delete(scopeURL);
        else registrations.set(scopeURL, registrationId);
    });
    await cdp.send('ServiceWorker.enable');
    const offline = `http://127.0.0.1:${await closedPort()}/v1/receipts`;
    for (const [variant, type, receipts] of [
      ['module', 'module', endpoint],
      ['classic', 'classic', endpoint],
      ['offline', 'module', offline],
    ] as const) {
      await tab.evaluate(
        async ({ script, scope, type }) => {
          await navigator.serviceWorker.register(script, { scope, type });
          const registration = await navigator.serviceWorker.getRegistration(scope);
          const worker = registration?.installing ?? registration?.waiting ?? registration?.active;
          if (worker && worker.state !== 'activated')
            await new Promise<void>((resolve) =>
              worker.addEventListener('statechange', () => worker.state === 'activated' && resolve()),
            );
        },
        { script: `/${variant}/sw.js?endpoint=${encodeURIComponent(receipts)}`, scope: `/${variant}/`, type },
      );
    }
  });

  after(async () => {
    await browser?.close();
    await metrics?.close();
    await new Promise<void>((resolve) => (page ? page.close(() => resolve()) : resolve()));
  });

  const stamp = (ageMs: number) => {
    const sentAt = Date.now() - ageMs;
    return { provider: 'webpush', app: APP, sentAt, sig: signReceipt(SECRET, APP, sentAt) };
  };

  async function push(variant: string, payload: unknown): Promise<void> {
    const registrationId = await until(`the ${variant} registration`, async () =>
      registrations.get(`${origin}/${variant}/`),
    );
    await cdp.send('ServiceWorker.deliverPushMessage', { origin, registrationId, data: JSON.stringify(payload) });
  }

  /** Asks a worker's test hook, over a MessageChannel. */
  function ask(variant: string, message: { ask: string; tag?: string }): Promise<unknown> {
    return tab.evaluate(
      async ({ scope, message }) => {
        const registration = await navigator.serviceWorker.getRegistration(scope);
        const channel = new MessageChannel();
        const port = channel.port1 as unknown as { onmessage: (event: { data: unknown }) => void };
        // Assigned to a property, not named in an object literal: tsx would wrap a named function in a helper the
        // page does not have.
        const answer = new Promise((resolve) => {
          port.onmessage = (event) => resolve(event.data);
        });
        registration?.active?.postMessage(message, [channel.port2]);
        return answer;
      },
      { scope: `/${variant}/`, message },
    );
  }

  async function notifications(variant: string): Promise<{ title: string; tag: string; data: unknown }[]> {
    return tab.evaluate(async (scope) => {
      const registration = await navigator.serviceWorker.getRegistration(scope);
      const shown = (await registration?.getNotifications()) ?? [];
      return shown.map(({ title, tag, data }) => ({ title, tag, data }));
    }, `/${variant}/`);
  }

  /** Waits until a worker has shown the notification tagged `tag`. */
  const shown = (variant: string, tag: string) =>
    until(`the ${variant} worker to show ${tag}`, async () =>
      ((await ask(variant, { ask: 'shown' })) as string[]).includes(tag) ? true : undefined,
    );

  async function samples() {
    const response = await fetch(`${metrics.url}/metrics`);
    return parseExposition(await response.text());
  }

  const receipts = async (event: string, provider = 'webpush') =>
    valueOf(await samples(), 'push_device_receipts_total', { provider, app: APP, event }) ?? 0;

  it('posts delivered on push and displayed once shown, cross-origin, and /metrics counts both with the latency', async () => {
    // The payload as the sender's stamping helper makes it.
    const payload = stampWebPushPayload(
      { title: 'Your order shipped', body: 'Order #1234', tag: 'order-1234' },
      { app: APP, secret: SECRET, sentAt: Date.now() - 1_500 },
    );
    const sent = payload.pushTelemetry;
    assert.ok(sent.sig);
    await push('module', payload);
    // The metrics server and Playwright's request events see a receipt on their own paths: wait for both.
    let seen = { delivered: 0, displayed: 0, requests: 0 };
    await until(
      () => `the delivered and displayed receipts, last seen ${JSON.stringify(seen)}`,
      async () => {
        seen = {
          delivered: await receipts('delivered'),
          displayed: await receipts('displayed'),
          requests: receiptRequests.length,
        };
        return seen.delivered === 1 && seen.displayed === 1 && seen.requests >= 2 ? true : undefined;
      },
    );
    const all = await samples();
    const latency = { provider: 'webpush', app: APP };
    assert.equal(valueOf(all, 'push_delivery_latency_seconds_count', latency), 1);
    const seconds = valueOf(all, 'push_delivery_latency_seconds_sum', latency) as number;
    assert.ok(seconds >= 1.5 && seconds < 30, `latency ${seconds} s from a stamp 1.5 s old`);
    assert.equal(valueOf(all, 'push_delivery_latency_seconds_bucket', { ...latency, le: '1' }), 0);
    assert.equal(valueOf(all, 'push_delivery_latency_seconds_bucket', { ...latency, le: '30' }), 1);
    for (const reason of ['malformed', 'bad_signature', 'unknown_app'])
      assert.equal(valueOf(all, 'push_device_receipts_rejected_total', { reason }), 0, reason);
    // The receipt is the stamp and the event: nothing else of the payload leaves the device.
    const bodies = receiptRequests.map(({ body }) => JSON.parse(body) as Record<string, unknown>);
    assert.deepEqual(bodies.map(({ event }) => event).sort(), ['delivered', 'displayed']);
    for (const body of bodies)
      assert.deepEqual(Object.keys(body).sort(), ['app', 'event', 'provider', 'sentAt', 'sig']);
    assert.deepEqual(
      (await notifications('module')).find(({ tag }) => tag === 'order-1234'),
      { title: 'Your order shipped', tag: 'order-1234', data: { pushTelemetry: sent } },
      'the notification shows, with the stamp kept in its data',
    );
  });

  it('posts opened when the notification is clicked', async () => {
    assert.equal(await receipts('opened'), 0);
    assert.equal(await ask('module', { ask: 'click', tag: 'order-1234' }), 'clicked');
    await until('the opened receipt', async () => ((await receipts('opened')) === 1 ? true : undefined));
    assert.deepEqual(await ask('module', { ask: 'errors' }), []);
  });

  it('posts nothing for a push without a stamp, and still shows its notification', async () => {
    const before = receiptRequests.length;
    await push('module', { title: 'Not stamped', tag: 'plain' });
    await shown('module', 'plain');
    // A stamped push after it: Chromium starts a worker's requests in order, so a receipt from the first would come
    // before this one's.
    await push('module', { title: 'Stamped', tag: 'barrier', pushTelemetry: stamp(0) });
    await until('the barrier receipt', async () => (receiptRequests.length > before ? true : undefined));
    const first = JSON.parse((receiptRequests[before] as { body: string }).body) as { sentAt: number };
    assert.notEqual(first.sentAt, undefined);
    assert.ok(
      receiptRequests
        .slice(before)
        .every(({ body }) => (JSON.parse(body) as { sentAt: number }).sentAt === first.sentAt),
      'every receipt after the unstamped push is the stamped one',
    );
    assert.deepEqual((await notifications('module')).find(({ tag }) => tag === 'plain')?.data, {});
  });

  it('works as a classic script with importScripts', async () => {
    assert.equal(await receipts('delivered', 'fcm'), 0);
    // FCM's shape, as its web SDK hands a message to the worker: the stamp is JSON text in data.
    const message = stampFcmMessage(
      { notification: { title: 'Classic', tag: 'classic' } },
      { app: APP, secret: SECRET },
    );
    await push('classic', message);
    await until('the classic worker’s receipt', async () =>
      (await receipts('delivered', 'fcm')) === 1 && (await receipts('displayed', 'fcm')) === 1 ? true : undefined,
    );
    assert.deepEqual(
      (await notifications('classic'))[0],
      {
        title: 'Classic',
        tag: 'classic',
        data: { pushTelemetry: JSON.parse(message.data.pushTelemetry as string) as unknown },
      },
      'the stamp kept in the notification data as an object',
    );
  });

  it('shows the notification when the receipts endpoint is unreachable, and tells onError', async () => {
    await push('offline', { title: 'Offline endpoint', tag: 'offline', pushTelemetry: stamp(0) });
    await shown('offline', 'offline');
    assert.ok(
      (await notifications('offline')).some(({ tag }) => tag === 'offline'),
      'the notification is there',
    );
    const errors = await until('onError', async () => {
      const seen = (await ask('offline', { ask: 'errors' })) as string[];
      return seen.length >= 2 ? seen : undefined;
    });
    assert.deepEqual([...errors].sort(), ['delivered: TypeError', 'displayed: TypeError']);
  });
});
