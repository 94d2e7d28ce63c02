/**
 * The emulator's route table: a Map of `METHOD path` for exact routes (every hot path) and a short list of segment
 * patterns with `:params` for the v1.0 routes. Hono would do, but its per-request cost halves the throughput the
 * emulator must reach (≥ 10,000 robot sends/s on one core).
 */
import type { Ctx, Reply } from './http-io.js';

export type Handler = (ctx: Ctx) => Reply | Promise<Reply>;

export interface Route {
  /** `METHOD /pattern`, the id used in the request log and fault rules. */
  id: string;
  method: string;
  handler: Handler;
}

export type Match =
  | { kind: 'ok'; route: Route; params: Record<string, string> }
  | { kind: 'method'; allowed: string[] }
  | { kind: 'none' };

interface Pattern {
  route: Route;
  segments: string[];
}

export class RouteTable {
  readonly #exact = new Map<string, Route>();
  readonly #exactPaths = new Map<string, string[]>();
  readonly #patterns: Pattern[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    const route = { id: `${method} ${pattern}`, method, handler };
    if (pattern.includes('/:')) {
      this.#patterns.push({ route, segments: pattern.split('/') });
    } else {
      this.#exact.set(route.id, route);
      const methods = this.#exactPaths.get(pattern) ?? [];
      methods.push(method);
      this.#exactPaths.set(pattern, methods);
    }
    return this;
  }

  match(method: string, path: string): Match {
    const exact = this.#exact.get(`${method} ${path}`);
    if (exact) return { kind: 'ok', route: exact, params: {} };
    const allowed = [...(this.#exactPaths.get(path) ?? [])];
    const segs = path.split('/');
    for (const p of this.#patterns) {
      const params = matchSegments(p.segments, segs);
      if (!params) continue;
      if (p.route.method === method) return { kind: 'ok', route: p.route, params };
      allowed.push(p.route.method);
    }
    return allowed.length > 0 ? { kind: 'method', allowed } : { kind: 'none' };
  }

  routes(): string[] {
    return [...this.#exact.keys(), ...this.#patterns.map((p) => p.route.id)];
  }
}

function matchSegments(pattern: string[], segs: string[]): Record<string, string> | undefined {
  if (pattern.length !== segs.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i] ?? '';
    const s = segs[i] ?? '';
    if (p.startsWith(':')) {
      if (s === '') return undefined;
      let v: string;
      try {
        v = decodeURIComponent(s);
      } catch {
        return undefined;
      }
      params[p.slice(1)] = v;
    } else if (p !== s) return undefined;
  }
  return params;
}
