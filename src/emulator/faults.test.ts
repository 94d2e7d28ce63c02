import { describe, expect, it } from 'vitest';
import { FaultPlan, routeMatches, validateRules } from './faults.js';

describe('FaultPlan', () => {
  it('draws kinds in proportion to their shares, reproducibly per seed', () => {
    const plan = new FaultPlan(1);
    plan.set([{ error5xx: 0.2, hang: 0.1 }]);
    const counts: Record<string, number> = {};
    const seq: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const k = plan.decide('POST /x', '/x', undefined).kind ?? 'none';
      counts[k] = (counts[k] ?? 0) + 1;
      if (i < 50) seq.push(k);
    }
    expect(counts['error_5xx']! / 10_000).toBeCloseTo(0.2, 1);
    expect(counts['hang']! / 10_000).toBeCloseTo(0.1, 1);
    const again = new FaultPlan(1);
    again.set([{ error5xx: 0.2, hang: 0.1 }]);
    expect(Array.from({ length: 50 }, () => again.decide('POST /x', '/x', undefined).kind ?? 'none')).toEqual(
      seq,
    );
  });

  it('applies the first matching rule only; robot filters use name or alias', () => {
    const plan = new FaultPlan(3);
    plan.set([{ robot: 'r1', error5xx: 1 }, { throttle: 1 }]);
    expect(plan.decide('POST /robot/send', '/robot/send', 'r1').kind).toBe('error_5xx');
    expect(plan.decide('POST /robot/send', '/robot/send', 'r2').kind).toBe('throttle');
    expect(plan.decide('POST /robot/send', '/robot/send', 'name', ['r1']).kind).toBe('error_5xx');
    expect(plan.needsRobot).toBe(true);
  });

  it('matches routes by id, path, prefix or *', () => {
    expect(routeMatches(undefined, 'POST /a', '/a')).toBe(true);
    expect(routeMatches('*', 'POST /a', '/a')).toBe(true);
    expect(routeMatches('POST /a', 'POST /a', '/a')).toBe(true);
    expect(routeMatches('/v1.0/*', 'POST /v1.0/x', '/v1.0/x')).toBe(true);
    expect(routeMatches('/v1.0/*', 'POST /robot/send', '/robot/send')).toBe(false);
    expect(routeMatches('POST /b', 'POST /a', '/a')).toBe(false);
  });

  it('validates rule lists', () => {
    expect(validateRules([{ error5xx: 0.5 }])).toBeUndefined();
    expect(validateRules('x')).toMatch(/array/);
    expect(validateRules([{ hang: -1 }])).toMatch(/share/);
    expect(validateRules([{ hang: 0.7, resetAfter: 0.7 }])).toMatch(/more than 1/);
    expect(validateRules([{ latencyMs: 'x' }])).toMatch(/latencyMs/);
    expect(validateRules([{ route: 5 }])).toMatch(/route/);
  });
});
