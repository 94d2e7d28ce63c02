/**
 * Faults on demand, seeded and reproducible: for each request, the first rule matching its
 * route (and robot) draws one number from the seeded source and picks at most one fault by cumulative share,
 * in the order resetBefore, error5xx, throttle, hang, resetAfter. Hangs and late resets draw a second number to
 * decide whether the effect is applied first (`acceptFirst`), so the oracle can count ambiguous outcomes.
 * Each rule draws from its own stream (derived from the seed and the rule's index), so the n-th request a rule
 * matches meets the same fault however the requests of other routes interleave with it.
 */
import { seededRandom } from './stream/frames.js';
import type { FaultKind, FaultRule } from './types.js';

export interface FaultDecision {
  kind: FaultKind | undefined;
  /** For hang / reset_after: run the handler before failing. */
  acceptFirst: boolean;
  latencyMs: number;
}

const NONE: FaultDecision = { kind: undefined, acceptFirst: false, latencyMs: 0 };

export class FaultPlan {
  #rules: FaultRule[] = [];
  #streams: Array<() => number> = [];
  #seed: number;

  constructor(seed: number) {
    this.#seed = seed;
  }

  get rules(): readonly FaultRule[] {
    return this.#rules;
  }

  set(rules: FaultRule[], seed?: number): void {
    this.#rules = rules.map((r) => ({ ...r }));
    if (seed !== undefined) this.#seed = seed;
    this.#streams = this.#rules.map((_, i) =>
      seededRandom((this.#seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0),
    );
  }

  get active(): boolean {
    return this.#rules.length > 0;
  }

  /** Whether some rule filters on a robot (then the decision must wait for the body, where robotCode lives). */
  get needsRobot(): boolean {
    return this.#rules.some((r) => r.robot !== undefined);
  }

  decide(
    route: string,
    path: string,
    robot: string | undefined,
    robotAliases: readonly string[] = [],
  ): FaultDecision {
    if (this.#rules.length === 0) return NONE;
    const index = this.#rules.findIndex(
      (r) => routeMatches(r.route, route, path) && robotMatches(r.robot, robot, robotAliases),
    );
    if (index < 0) return NONE;
    const rule = this.#rules[index]!;
    const random = this.#streams[index]!;
    const latencyMs = rule.latencyMs ?? 0;
    const x = random();
    let acc = 0;
    const order: Array<[FaultKind, number | undefined]> = [
      ['reset_before', rule.resetBefore],
      ['error_5xx', rule.error5xx],
      ['throttle', rule.throttle],
      ['hang', rule.hang],
      ['reset_after', rule.resetAfter],
    ];
    for (const [kind, share] of order) {
      acc += share ?? 0;
      if (x < acc) {
        const acceptFirst =
          (kind === 'hang' || kind === 'reset_after') && random() < (rule.acceptFirst ?? 0.5);
        return { kind, acceptFirst, latencyMs };
      }
    }
    return latencyMs > 0 ? { kind: 'latency', acceptFirst: false, latencyMs } : NONE;
  }
}

export function routeMatches(pattern: string | undefined, route: string, path: string): boolean {
  if (pattern === undefined || pattern === '*') return true;
  if (pattern.endsWith('*')) {
    const prefix = pattern.slice(0, -1);
    return path.startsWith(prefix) || route.startsWith(prefix);
  }
  return pattern === route || pattern === path;
}

function robotMatches(
  want: string | undefined,
  robot: string | undefined,
  aliases: readonly string[],
): boolean {
  if (want === undefined) return true;
  return want === robot || aliases.includes(want);
}

/** Checks a rule list from the control API; returns an error text or undefined. */
export function validateRules(rules: unknown): string | undefined {
  if (!Array.isArray(rules)) return 'rules must be an array';
  for (const r of rules) {
    if (r === null || typeof r !== 'object' || Array.isArray(r)) return 'each rule must be an object';
    const o = r as Record<string, unknown>;
    for (const k of ['resetBefore', 'error5xx', 'throttle', 'hang', 'resetAfter', 'acceptFirst']) {
      const v = o[k];
      if (v !== undefined && (typeof v !== 'number' || !(v >= 0 && v <= 1)))
        return `${k} must be a share in 0..1`;
    }
    const l = o['latencyMs'];
    if (l !== undefined && (typeof l !== 'number' || !(l >= 0 && l <= 600_000)))
      return 'latencyMs must be 0..600000';
    for (const k of ['route', 'robot']) {
      if (o[k] !== undefined && typeof o[k] !== 'string') return `${k} must be a string`;
    }
    const sum = ['resetBefore', 'error5xx', 'throttle', 'hang', 'resetAfter'].reduce(
      (n, k) => n + ((o[k] as number | undefined) ?? 0),
      0,
    );
    if (sum > 1 + 1e-9) return 'fault shares of one rule add up to more than 1';
  }
  return undefined;
}
