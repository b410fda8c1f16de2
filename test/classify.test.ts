import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyError, ERROR_TYPES, errorOwner, isErrorType, type ErrorType } from '../src/index.js';
import net from 'node:net';
import { readProperty } from '../src/core/read.js';
import { closedPort, codeError, httpError } from './helpers.js';

describe('ERROR_TYPES and errorOwner', () => {
  it('lists the twelve contract values in order', () => {
    assert.deepEqual(ERROR_TYPES, [
      'provider_unavailable',
      'timeout',
      'network',
      'rate_limited',
      'auth',
      'config',
      'payload_invalid',
      'payload_too_large',
      'unregistered',
      'invalid_token',
      'canceled',
      'unknown',
    ]);
    assert.ok(Object.isFrozen(ERROR_TYPES) || ERROR_TYPES.length === 12);
  });

  it('gives every error type the contract owner', () => {
    const owners: Record<ErrorType, string> = {
      provider_unavailable: 'provider',
      timeout: 'provider',
      network: 'provider',
      rate_limited: 'capacity',
      auth: 'sender',
      config: 'sender',
      payload_invalid: 'sender',
      payload_too_large: 'sender',
      unregistered: 'audience',
      invalid_token: 'audience',
      canceled: 'caller',
      unknown: 'unknown',
    };
    for (const type of ERROR_TYPES) assert.equal(errorOwner(type), owners[type], type);
  });

  it('answers unknown for values outside the taxonomy instead of throwing', () => {
    assert.equal(errorOwner('nope' as ErrorType), 'unknown');
    assert.equal(isErrorType('nope'), false);
    assert.equal(isErrorType('timeout'), true);
    assert.equal(isErrorType(undefined), false);
  });
});

describe('classifyError: HTTP status', () => {
  const table: Array<[number, ErrorType]> = [
    [400, 'payload_invalid'],
    [401, 'auth'],
    [403, 'auth'],
    [404, 'unregistered'],
    [410, 'unregistered'],
    [408, 'timeout'],
    [413, 'payload_too_large'],
    [429, 'rate_limited'],
    [500, 'provider_unavailable'],
    [502, 'provider_unavailable'],
    [503, 'provider_unavailable'],
    [504, 'provider_unavailable'],
    [599, 'provider_unavailable'],
    [405, 'unknown'],
    [418, 'unknown'],
    [301, 'unknown'],
    [200, 'unknown'],
  ];
  for (const [status, expected] of table) {
    it(`${status} → ${expected} wherever the status is carried`, () => {
      assert.equal(classifyError({ statusCode: status }), expected, 'statusCode');
      assert.equal(classifyError({ status }), expected, 'status');
      assert.equal(classifyError({ response: { status } }), expected, 'response.status');
      assert.equal(classifyError({ $metadata: { httpStatusCode: status } }), expected, '$metadata.httpStatusCode');
      assert.equal(classifyError(httpError(status)), expected, 'Error with statusCode');
    });
  }

  it('reads a status written as a three-digit string', () => {
    assert.equal(classifyError({ statusCode: '503' }), 'provider_unavailable');
    assert.equal(classifyError({ status: 'error' }), 'unknown');
  });

  it('ignores statuses that are not HTTP statuses', () => {
    for (const status of [0, 99, 600, 1e9, -1, 4.5, NaN, Infinity, true, {}, [], 'abc', '4044']) {
      assert.equal(classifyError({ statusCode: status }), 'unknown', String(status));
    }
  });

  it('prefers the status over the message text', () => {
    assert.equal(
      classifyError(Object.assign(new Error('request timed out'), { statusCode: 503 })),
      'provider_unavailable',
    );
  });
});

describe('classifyError: transport errors', () => {
  const network = [
    'ECONNREFUSED',
    'ECONNRESET',
    'ENOTFOUND',
    'EAI_AGAIN',
    'EPIPE',
    'EPROTO',
    'EHOSTUNREACH',
    'UND_ERR_SOCKET',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'ERR_SSL_WRONG_VERSION_NUMBER',
    'CERT_HAS_EXPIRED',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'SELF_SIGNED_CERT_IN_CHAIN',
    'ERR_HTTP2_GOAWAY_SESSION',
  ];
  for (const code of network) it(`${code} → network`, () => assert.equal(classifyError(codeError(code)), 'network'));

  for (const code of [
    'ETIMEDOUT',
    'ESOCKETTIMEDOUT',
    'UND_ERR_CONNECT_TIMEOUT',
    'UND_ERR_HEADERS_TIMEOUT',
    'UND_ERR_BODY_TIMEOUT',
  ]) {
    it(`${code} → timeout`, () => assert.equal(classifyError(codeError(code)), 'timeout'));
  }

  it('classifies a real connection refusal from node:net', async () => {
    const port = await closedPort();
    const error = await new Promise<unknown>((resolve) => net.connect(port, '127.0.0.1').once('error', resolve));
    assert.equal(classifyError(error), 'network');
  });

  it("classifies fetch's TypeError('fetch failed') by its cause", async () => {
    const error = await fetch(`http://127.0.0.1:${await closedPort()}/`).catch((e: unknown) => e);
    assert.equal(readProperty(error, 'message'), 'fetch failed');
    assert.equal(classifyError(error), 'network');
    assert.equal(
      classifyError(new TypeError('fetch failed', { cause: codeError('UND_ERR_CONNECT_TIMEOUT') })),
      'timeout',
    );
  });

  it('timeouts by name and by message', () => {
    assert.equal(classifyError(Object.assign(new Error('x'), { name: 'TimeoutError' })), 'timeout');
    assert.equal(classifyError(new Error('Socket timeout')), 'timeout');
    assert.equal(classifyError(new Error('apn write timeout')), 'timeout');
    assert.equal(classifyError(new Error('request timed out after 10s')), 'timeout');
    assert.equal(classifyError('Socket timeout'), 'timeout');
    assert.equal(classifyError(new Error('timestamp out of range')), 'unknown');
  });

  it('AbortSignal.timeout() is a timeout, an abort is canceled', async (t) => {
    // A server that accepts and never answers, so only the signal can end the request.
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
    const timedOut = await fetch(url, { signal: AbortSignal.timeout(30) }).catch((e: unknown) => e);
    assert.equal(readProperty(timedOut, 'name'), 'TimeoutError');
    assert.equal(classifyError(timedOut), 'timeout');
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 30);
    const aborted = await fetch(url, { signal: controller.signal }).catch((e: unknown) => e);
    assert.equal(readProperty(aborted, 'name'), 'AbortError');
    assert.equal(classifyError(aborted), 'canceled');
    assert.equal(
      classifyError(Object.assign(new Error('The operation was aborted'), { code: 'ABORT_ERR' })),
      'canceled',
    );
    assert.equal(classifyError(new DOMException('stop', 'AbortError')), 'canceled');
  });

  it('unknown codes and plain errors are unknown', () => {
    assert.equal(classifyError(codeError('messaging/whatever')), 'unknown');
    assert.equal(classifyError(new Error('boom')), 'unknown');
    assert.equal(classifyError({ code: 42 }), 'unknown');
  });
});

describe('classifyError never throws', () => {
  const hostile: Array<[string, () => unknown]> = [
    ['null', () => null],
    ['undefined', () => undefined],
    ['a number', () => 42],
    ['a symbol', () => Symbol('x')],
    ['a bigint', () => 10n],
    ['a function', () => () => 1],
    ['a frozen object', () => Object.freeze({ statusCode: 'x' })],
    [
      'an object with throwing getters',
      () => ({
        get statusCode(): never {
          throw new Error('getter');
        },
        get code(): never {
          throw new Error('getter');
        },
        get name(): never {
          throw new Error('getter');
        },
        get message(): never {
          throw new Error('getter');
        },
        get cause(): never {
          throw new Error('getter');
        },
      }),
    ],
    [
      'a Proxy that throws on every trap',
      () =>
        new Proxy(
          {},
          new Proxy(
            {},
            {
              get: () => () => {
                throw new Error('trap');
              },
            },
          ),
        ),
    ],
    [
      'a revoked Proxy',
      () => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      },
    ],
    [
      'a cyclic cause chain',
      () => {
        const a: Record<string, unknown> = { message: 'a' };
        const b = { message: 'b', cause: a };
        a.cause = b;
        return a;
      },
    ],
    [
      'a self-caused error',
      () => {
        const e = new Error('self');
        (e as { cause?: unknown }).cause = e;
        return e;
      },
    ],
    ['a huge message', () => new Error('x'.repeat(5_000_000))],
    ['an object with a null prototype', () => Object.create(null)],
    [
      'a status getter returning a Proxy',
      () => ({
        get response() {
          return new Proxy(
            {},
            {
              get() {
                throw new Error('deep');
              },
            },
          );
        },
      }),
    ],
  ];
  for (const [name, make] of hostile) {
    it(`for ${name}`, () => {
      const type = classifyError(make());
      assert.ok(ERROR_TYPES.includes(type), `${type} is in ERROR_TYPES`);
    });
  }

  it('still classifies what it can read past a throwing getter', () => {
    assert.equal(
      classifyError({
        get statusCode(): never {
          throw new Error('no');
        },
        status: 429,
      }),
      'rate_limited',
    );
  });
});
