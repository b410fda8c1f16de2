import { randomBytes } from 'node:crypto';
import { DEMO_PROVIDERS, type DemoProvider } from './clients/index.js';

/** Each provider's token format, so what the fakes and SDKs see looks like the real thing. */
const NEW_TOKEN: Readonly<Record<DemoProvider, () => string>> = {
  fcm: () => `fcm-${randomBytes(12).toString('base64url')}`,
  apns: () => randomBytes(32).toString('hex'),
  webpush: () => `sub-${randomBytes(8).toString('hex')}`,
  expo: () => `ExponentPushToken[${randomBytes(11).toString('base64url')}]`,
  sns: () => `device-${randomBytes(8).toString('hex')}`,
};

/**
 * The demo's device registry: a fixed-size set of tokens per provider, handed out round-robin. A pruned token is
 * replaced by a fresh one, as a reinstall would register, so the audience stays the same size during token churn.
 */
export class TokenStore {
  readonly #tokens = new Map<DemoProvider, string[]>();
  readonly #next = new Map<DemoProvider, number>();
  readonly #pruned = new Map<DemoProvider, number>();

  constructor(perProvider = 200) {
    for (const provider of DEMO_PROVIDERS) {
      this.#tokens.set(provider, Array.from({ length: perProvider }, NEW_TOKEN[provider]));
      this.#next.set(provider, 0);
      this.#pruned.set(provider, 0);
    }
  }

  /** The next `count` tokens for a provider (distinct while count <= the store's size). */
  take(provider: DemoProvider, count: number): string[] {
    const tokens = this.#tokens.get(provider) as string[];
    let next = this.#next.get(provider) as number;
    const out: string[] = [];
    for (let i = 0; i < count; i++, next = (next + 1) % tokens.length) out.push(tokens[next] as string);
    this.#next.set(provider, next);
    return out;
  }

  /** What onInvalidToken does in a real sender: forget the token. Unknown tokens (curl'd ones) are ignored. */
  prune(provider: DemoProvider, token: string): void {
    const tokens = this.#tokens.get(provider) as string[];
    const index = tokens.indexOf(token);
    if (index < 0) return;
    tokens[index] = NEW_TOKEN[provider]();
    this.#pruned.set(provider, (this.#pruned.get(provider) as number) + 1);
  }

  pruned(provider: DemoProvider): number {
    return this.#pruned.get(provider) as number;
  }
}
