import * as crypto from 'node:crypto';
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { BoundedMap } from '../providers/bounded-map.js';

/**
 * The optional receipt signature: base64url(HMAC-SHA256(secret, `${app}.${sentAt}`)). The sender stamps it into the
 * payload with the stamp, the device echoes it back, and the receipts endpoint recomputes it: a receipt for a push the
 * sender never stamped cannot be forged without the secret, which never leaves the servers.
 */

/** Shortest secret accepted: 32 characters, e.g. `openssl rand -base64 32` (44). */
export const MIN_SECRET_LENGTH = 32;

/** A signature is 32 bytes, 43 characters of unpadded base64url. */
const SIGNATURE_LENGTH = 43;

export function checkSecret(secret: unknown, option: string): string {
  if (typeof secret !== 'string' || secret.length < MIN_SECRET_LENGTH) {
    throw new TypeError(
      `${option} must be a string of at least ${MIN_SECRET_LENGTH} characters (e.g. openssl rand -base64 32), got ${
        typeof secret === 'string' ? `a string of ${secret.length} characters` : typeof secret
      }`,
    );
  }
  return secret;
}

/** The `sig` a stamp carries for (app, sentAt). */
export function signReceipt(secret: string, app: string, sentAt: number): string {
  return createHmac('sha256', secret).update(`${app}.${sentAt}`).digest('base64url');
}

/** Checks a receipt's `sig` in constant time; anything but a well-formed matching signature is false. */
export function verifyReceiptSignature(secret: string, app: string, sentAt: number, sig: unknown): boolean {
  if (typeof sig !== 'string' || sig.length !== SIGNATURE_LENGTH) return false;
  // Compared as text: decoding first would accept the other spellings of the last character's two spare bits.
  return timingSafeEqual(Buffer.from(sig, 'latin1'), Buffer.from(signReceipt(secret, app, sentAt), 'latin1'));
}

/** Signatures a verifier remembers: a few hundred KB at most. */
export const VERIFIED_SIGNATURES_REMEMBERED = 2048;

/**
 * verifyReceiptSignature with a memory of the signatures it has accepted. One stamp comes back several times: once per
 * event (delivered, displayed, opened), and from every device when one stamped message went to a topic or a
 * multicast. An HMAC costs more than the rest of a receipt, so a stamp already verified is only looked up. Only
 * signatures that verified are remembered, each with the exact app and sentAt it signs, so a lookup can admit nothing
 * the HMAC would refuse.
 */
export class ReceiptSignatureVerifier {
  readonly #verified = new BoundedMap<string, string>(VERIFIED_SIGNATURES_REMEMBERED);
  readonly #sign: (message: string) => string;

  constructor(secret: string) {
    this.#sign = hmacSigner(secret);
  }

  verify(app: string, sentAt: number, sig: unknown): boolean {
    if (typeof sig !== 'string' || sig.length !== SIGNATURE_LENGTH) return false;
    const signed = `${app}.${sentAt}`;
    if (this.#verified.get(sig) === signed) return true;
    if (!sameText(sig, this.#sign(signed))) return false;
    this.#verified.set(sig, signed);
    return true;
  }
}

/**
 * Equal strings of SIGNATURE_LENGTH, compared as text like verifyReceiptSignature but without its two Buffers: every
 * character is read whatever differs, so the time taken does not tell how much of a guess was right.
 */
function sameText(given: string, expected: string): boolean {
  let difference = 0;
  for (let i = 0; i < SIGNATURE_LENGTH; i++) difference |= given.charCodeAt(i) ^ expected.charCodeAt(i);
  return difference === 0;
}

type OneShotHash = (algorithm: string, data: Buffer, outputEncoding: 'latin1' | 'base64url') => string;
const ASCII = /^[\x20-\x7e]*$/;

/**
 * HMAC-SHA256 as base64url, from two one-shot hashes over key pads computed once (RFC 2104), where node:crypto has
 * `hash()` (Node 20.12+): a new Hmac object per receipt costs more than both hashes. Messages that are not printable
 * ASCII, which an allow-listed app never makes, and older Nodes take createHmac.
 */
function hmacSigner(secret: string): (message: string) => string {
  const hash = (crypto as { hash?: OneShotHash }).hash;
  const slow = (message: string) => createHmac('sha256', secret).update(message).digest('base64url');
  if (typeof hash !== 'function') return slow;
  let key = Buffer.from(secret, 'utf8');
  if (key.length > 64) key = createHash('sha256').update(key).digest();
  const block = Buffer.alloc(64);
  key.copy(block);
  const inner = Buffer.from(block.map((byte) => byte ^ 0x36)).toString('latin1');
  const outer = Buffer.from(block.map((byte) => byte ^ 0x5c)).toString('latin1');
  return (message) => {
    if (!ASCII.test(message)) return slow(message);
    const innerDigest = hash('sha256', Buffer.from(inner + message, 'latin1'), 'latin1');
    return hash('sha256', Buffer.from(outer + innerDigest, 'latin1'), 'base64url');
  };
}
