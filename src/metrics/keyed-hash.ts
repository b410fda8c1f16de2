import { randomFillSync } from 'node:crypto';

/**
 * A fast keyed 64-bit hash of a token, as two 32-bit halves: what the send-frequency sample keeps instead of the
 * token. Keyed with random bits drawn per instance, so the values mean nothing outside the process and cannot be
 * matched against a list of tokens. Not a MAC: it makes tokens unrecognisable in memory, it does not authenticate.
 *
 * The token is copied into a scratch buffer as Latin-1 (push tokens are ASCII; a wider character keeps its low byte,
 * which can only make two tokens collide, never leak one) and mixed four bytes at a time on two lanes, then finalised
 * with murmur3's avalanche; HMAC per message would cost several times the whole send path (docs/performance.md).
 */

const SCRATCH_BYTES = 4096;
const scratch = Buffer.alloc(SCRATCH_BYTES + 8);
const words = new Int32Array(scratch.buffer, scratch.byteOffset, (SCRATCH_BYTES + 8) >>> 2);

/** The two halves of the last hash; read right after `hash()`, which is synchronous. */
export const HASHED = { hi: 0, lo: 0 };

function finish(h1: number, h2: number): void {
  let a = h1 ^ h2;
  a = Math.imul(a ^ (a >>> 16), 0x85ebca6b);
  a = Math.imul(a ^ (a >>> 13), 0xc2b2ae35);
  a ^= a >>> 16;
  let b = h2 ^ a;
  b = Math.imul(b ^ (b >>> 16), 0x85ebca6b);
  b = Math.imul(b ^ (b >>> 13), 0xc2b2ae35);
  b ^= b >>> 16;
  HASHED.hi = a;
  HASHED.lo = b;
}

export class KeyedHash {
  readonly #k1: number;
  readonly #k2: number;

  /** `key`: two 32-bit words; tests fix it to make the sample deterministic. Default: random. */
  constructor(key?: readonly [number, number]) {
    const words = key === undefined ? randomFillSync(new Int32Array(2)) : Int32Array.from(key);
    this.#k1 = words[0] as number;
    this.#k2 = words[1] as number;
  }

  /** Hashes `token` into HASHED. */
  hash(token: string): void {
    const length = token.length;
    let h1 = this.#k1 ^ length;
    let h2 = this.#k2;
    if (length > SCRATCH_BYTES) {
      for (let i = 0; i < length; i++) {
        const c = token.charCodeAt(i);
        h1 = Math.imul(h1 ^ c, 0x9e3779b1);
        h1 = (h1 << 13) | (h1 >>> 19);
        h2 = (Math.imul(h2 ^ c, 0x85ebca77) + h1) | 0;
      }
      finish(h1, h2);
      return;
    }
    const bytes = scratch.write(token, 0, 'latin1');
    // The last word's spare bytes hold the previous token's tail: zero them so equal tokens hash equal.
    scratch[bytes] = 0;
    scratch[bytes + 1] = 0;
    scratch[bytes + 2] = 0;
    const count = (bytes + 3) >>> 2;
    let i = 0;
    // Two independent lanes, even and odd words, so the multiplies overlap; the finish mixes them together.
    for (; i + 1 < count; i += 2) {
      h1 = Math.imul(h1 ^ (words[i] as number), 0x9e3779b1);
      h1 = (h1 << 13) | (h1 >>> 19);
      h2 = Math.imul(h2 ^ (words[i + 1] as number), 0x85ebca77);
      h2 = (h2 << 15) | (h2 >>> 17);
    }
    if (i < count) h1 = Math.imul(h1 ^ (words[i] as number), 0x9e3779b1);
    finish(h1, h2);
  }
}
