/**
 * What tests need to see and steer at the token endpoints (docs/dingtalk.md §1.1): how many token requests each app
 * made, how many distinct tokens were issued, and a gate that holds the next N token requests unanswered, so a
 * refresh can be caught mid-flight (its process killed while it holds the hub's refresh lock).
 *
 * Two counts, because DingTalk answers a valid token's owner with the same token (§1.2): three processes that each
 * fetch within one lifetime get one token between them, so "tokens issued" cannot show whether they shared it.
 * `fetches` (requests with good credentials) can, and is what the token-sharing proof counts.
 */

import type { IncomingMessage } from 'node:http';

export interface TokenStats {
  /** Token requests with valid credentials, per app key (each is one round trip to DingTalk). */
  fetches: Record<string, number>;
  /** New token values issued, per app key (a fetch while the token is valid re-issues the same one, §1.2). */
  issued: Record<string, number>;
  /** Requests being held now. */
  held: number;
  /** How many more arriving requests will be held. */
  holdNext: number;
}

interface Held {
  resolve: (go: boolean) => void;
}

export class TokenGate {
  readonly #fetches = new Map<string, number>();
  readonly #issued = new Map<string, number>();
  readonly #held = new Set<Held>();
  #holdNext = 0;
  #waiters: Array<() => void> = [];

  /** Counts a fetch by `appKey`; resolves false if it was held and its client went away meanwhile. */
  admit(appKey: string, req: IncomingMessage): Promise<boolean> {
    this.#fetches.set(appKey, (this.#fetches.get(appKey) ?? 0) + 1);
    if (this.#holdNext <= 0) return Promise.resolve(true);
    this.#holdNext--;
    return new Promise<boolean>((resolve) => {
      // The socket, not the request: a request's own 'close' fires once its body is read. A client killed while held
      // closes its socket; it never gets a token, and none is issued for it.
      const socket = req.socket;
      const gone = () => h.resolve(false);
      const h: Held = {
        resolve: (go) => {
          if (!this.#held.delete(h)) return;
          socket.off('close', gone);
          resolve(go && !socket.destroyed);
        },
      };
      this.#held.add(h);
      socket.once('close', gone);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  noteIssued(appKey: string): void {
    this.#issued.set(appKey, (this.#issued.get(appKey) ?? 0) + 1);
  }

  /** Holds the next `count` token requests until {@link release}. */
  hold(count: number): void {
    this.#holdNext = count;
  }

  /** Answers every held request and stops holding; returns how many were held. */
  release(): number {
    this.#holdNext = 0;
    const n = this.#held.size;
    for (const h of [...this.#held]) h.resolve(true);
    return n;
  }

  /** Resolves once at least one request is held (at once if one is). */
  whenHeld(): Promise<void> {
    if (this.#held.size > 0) return Promise.resolve();
    return new Promise((r) => this.#waiters.push(r));
  }

  stats(): TokenStats {
    return {
      fetches: Object.fromEntries(this.#fetches),
      issued: Object.fromEntries(this.#issued),
      held: this.#held.size,
      holdNext: this.#holdNext,
    };
  }

  reset(): void {
    this.release();
    this.#fetches.clear();
    this.#issued.clear();
  }
}
