import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import webpush from 'web-push';
import { PushTelemetry, instrumentApns2, instrumentWebPush, type Apns2NotificationLike } from '../src/index.js';

/** An SDK-style error class exposed as a client member, as web-push exposes WebPushError. */
class ClientError extends Error {
  constructor(
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

/**
 * An apns2-like client keeping its state in #private fields, as modern SDK classes do: reading them with `this` = the
 * view (a Proxy) throws a TypeError, so every member below fails unless the view forwards to the client itself.
 */
class PrivateClient extends EventEmitter {
  static readonly DEFAULT_HOST = 'api.push.apple.com';
  readonly ClientError = ClientError;
  #team: string;
  #host = PrivateClient.DEFAULT_HOST;
  #sent = 0;

  constructor(team: string) {
    super();
    this.#team = team;
  }

  get team(): string {
    return this.#team;
  }

  set team(team: string) {
    this.#team = team;
  }

  get self(): this {
    return this;
  }

  describe(prefix: string): string {
    return `${prefix}${this.#team}@${this.#host}`;
  }

  setHost(host: string): this {
    this.#host = host;
    return this;
  }

  get sent(): number {
    return this.#sent;
  }

  async send(notification: Apns2NotificationLike): Promise<Apns2NotificationLike> {
    this.#sent++;
    return notification;
  }

  // Calls this.send, like apns2's sendMany: with `this` = the client, not the instrumented view.
  async sendMany(notifications: readonly Apns2NotificationLike[]): Promise<readonly Apns2NotificationLike[]> {
    return Promise.all(notifications.map((notification) => this.send(notification)));
  }
}

function setup(team = 'TEAM123456') {
  const telemetry = new PushTelemetry();
  const raw = new PrivateClient(team);
  return { telemetry, raw, view: instrumentApns2(raw, telemetry) };
}

async function accepted(telemetry: PushTelemetry): Promise<number> {
  const text = await telemetry.registry.metrics();
  const match = /^push_messages_total\{provider="apns",outcome="accepted"[^}]*\} (\d+)$/m.exec(text);
  return match === null ? 0 : Number(match[1]);
}

const note = (deviceToken: string): Apns2NotificationLike => ({ deviceToken });

describe('the client view of an SDK class with #private members', () => {
  it('runs getters, setters and methods against the client itself', () => {
    const { raw, view } = setup();
    assert.equal(view.team, 'TEAM123456');
    assert.equal(view.describe('team '), 'team TEAM123456@api.push.apple.com');
    view.team = 'OTHER12345';
    assert.equal(raw.team, 'OTHER12345', 'the setter wrote the client’s own field');
    assert.equal(view.team, 'OTHER12345');
    assert.equal(view.sent, 0);
  });

  it('hands out the view wherever the client would hand out itself', () => {
    const { raw, view } = setup();
    assert.equal(view.setHost('api.sandbox.push.apple.com'), view);
    assert.equal(view.describe(''), 'TEAM123456@api.sandbox.push.apple.com');
    assert.equal(view.self, view);
    assert.equal(
      view.on('error', () => {}),
      view,
      'EventEmitter#on returns this',
    );
    assert.equal(raw.setHost('h'), raw, 'the client itself still returns itself');
  });

  it('keeps sends through a chained call instrumented, and sendMany counted once per notification', async () => {
    const { telemetry, raw, view } = setup();
    assert.deepEqual(await view.setHost('api.sandbox.push.apple.com').send(note('a')), note('a'));
    assert.equal(await accepted(telemetry), 1);
    await view.setHost('h').sendMany([note('b'), note('c')]);
    assert.equal(await accepted(telemetry), 3);
    assert.equal(raw.sent, 3);
    await raw.send(note('direct'));
    assert.equal(await accepted(telemetry), 3, 'the client itself still sends uninstrumented');
  });

  it('leaves the client unmodified and the instrumented methods as they were', () => {
    const { raw, view } = setup();
    assert.notEqual(view, raw);
    assert.notEqual(view.send, raw.send);
    assert.equal(view.send, view.send);
    assert.equal(view.sendMany, view.sendMany);
    assert.equal(raw.send, PrivateClient.prototype.send);
    assert.equal(Object.hasOwn(raw, 'send'), false);
    assert.equal(view.send.name, 'send');
    assert.equal(view.send.length, 1);
  });

  it('gives each pass-through method one stable identity with its name and arity', () => {
    const { view } = setup();
    assert.equal(view.describe, view.describe);
    assert.equal(view.setHost, view.setHost);
    assert.equal(view.describe.name, 'describe');
    assert.equal(view.describe.length, 1);
    // Stable identity is what lets a listener added through the view be removed through it.
    let heard = 0;
    const listener = () => heard++;
    view.on('ping', listener);
    view.emit('ping');
    view.off('ping', listener);
    view.emit('ping');
    assert.equal(heard, 1);
    assert.equal(view.listenerCount('ping'), 0);
  });

  it('calls a detached method, or one called on another object, as the client would', () => {
    const { raw, view } = setup();
    const { describe: detached } = view;
    const { describe: detachedRaw } = raw;
    assert.throws(() => detached('x'), TypeError);
    assert.throws(() => detachedRaw('x'), TypeError);
    const other = new PrivateClient('OTHERTEAM1');
    assert.equal(view.describe.call(other, ''), 'OTHERTEAM1@api.push.apple.com');
    assert.equal(view.setHost.call(other, 'h'), other);
  });

  it('keeps class members constructible and instanceof-able, and the class itself', () => {
    const { view } = setup();
    const error = new view.ClientError('gone', 410);
    assert.ok(error instanceof ClientError);
    assert.ok(error instanceof view.ClientError);
    assert.ok(new ClientError('x', 400) instanceof view.ClientError);
    assert.equal(error.statusCode, 410);
    assert.equal(view.ClientError, ClientError);
    assert.ok(view instanceof PrivateClient);
    assert.equal(view.constructor, PrivateClient);
    assert.equal((view.constructor as typeof PrivateClient).DEFAULT_HOST, 'api.push.apple.com');
  });

  it('reports the client’s own keys and members', () => {
    const { raw, view } = setup();
    assert.deepEqual(Object.keys(view), Object.keys(raw));
    assert.ok('team' in view && 'describe' in view && 'send' in view && 'ClientError' in view);
    assert.ok(!('missing' in view));
  });

  it('lets an object inheriting from the view keep its own `this`', () => {
    const { view } = setup();
    const child = Object.create(view, { marker: { value: 'child' } }) as PrivateClient & { readonly marker: string };
    assert.equal(child.self, child);
    assert.throws(() => child.describe(''), TypeError, 'as it would inherit from the client');
  });

  it('still reads a frozen own function of the client as the Proxy invariants require', () => {
    const telemetry = new PushTelemetry();
    const helper = function (this: unknown) {
      return this;
    };
    const proto = {
      async send() {},
      async sendMany() {
        return [];
      },
    };
    const raw = Object.freeze(Object.assign(Object.create(proto) as typeof proto, { helper }));
    const view = instrumentApns2(raw, telemetry);
    assert.equal(view.helper, helper);
  });
});

describe('the web-push module through the view', () => {
  it('keeps WebPushError (a pre-class constructor) constructible, instanceof-able and stable', () => {
    const view = instrumentWebPush(webpush, new PushTelemetry());
    const error = new view.WebPushError('Received unexpected response code', 410, {}, 'gone', 'https://push.example/x');
    assert.ok(error instanceof webpush.WebPushError);
    assert.ok(error instanceof view.WebPushError);
    assert.ok(new webpush.WebPushError('x', 400, {}, '', 'https://push.example/y') instanceof view.WebPushError);
    assert.equal(error.statusCode, 410);
    assert.equal(error.name, 'WebPushError');
    assert.equal(view.WebPushError, view.WebPushError);
    assert.equal(view.WebPushError.name, 'WebPushError');
    assert.equal(view.generateVAPIDKeys, view.generateVAPIDKeys);
    assert.equal(typeof view.generateVAPIDKeys().publicKey, 'string');
    assert.deepEqual(Object.keys(view), Object.keys(webpush));
  });
});
