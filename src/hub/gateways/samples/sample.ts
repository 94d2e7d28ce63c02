/**
 * A sample payload of one sender, written from its public documentation. `dingkit hooks test <kind>` posts it
 * through a route's real door (auth, dedupe, rules, templates, the outbox), and the tests use the same ones.
 */
export interface HookSample {
  /** What it shows, e.g. `firing`, `pull_request.review_requested`. */
  name: string;
  /** Headers the sender adds besides auth (GitHub's `x-github-event`); auth and content type are added by the poster. */
  headers?: Readonly<Record<string, string>>;
  /** Headers that must differ per post, sent after `headers` (GitHub's `x-github-delivery`: its dedupe key). */
  headersFor?: (n: number, now: Date) => Record<string, string>;
  /**
   * The body. A function when it must differ per post (times, ids), so a test posted twice is not a duplicate.
   * `n` counts posts in one run.
   */
  body: (n: number, now: Date) => unknown;
}
