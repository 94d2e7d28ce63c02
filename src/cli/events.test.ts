import { describe, expect, it } from 'vitest';
import { EVENT_NAMES } from '../observe/event-map.js';
import { eventsHelp, selectTypes } from './events.js';

describe('dingkit events --type', () => {
  it('takes known types and prefix*, each once', () => {
    expect([...selectTypes('delivery, task.created')]).toEqual(['delivery', 'task.created']);
    expect([...selectTypes('delivery*')]).toEqual([
      'delivery',
      'delivery.recipient',
      'delivery.redriven',
      'delivery.resolved',
    ]);
    expect([...selectTypes('task.t*,task.todo')]).toEqual(['task.todo']);
    expect([...selectTypes('task.')]).toEqual(EVENT_NAMES.filter((n) => n.startsWith('task.')));
    expect(selectTypes('*').size).toBe(EVENT_NAMES.length);
  });

  it('refuses a type that selects nothing, as a usage error naming the known ones', () => {
    for (const bad of ['task.done', 'task', 'nope*', 'nope.', ' , ']) {
      let caught: unknown;
      try {
        selectTypes(bad);
      } catch (e) {
        caught = e;
      }
      expect(caught, bad).toMatchObject({ code: 'usage' });
      expect((caught as Error).message, bad).toContain(EVENT_NAMES.join(', '));
    }
  });

  it('names every type in the help', () => {
    for (const n of EVENT_NAMES) expect(eventsHelp).toContain(n);
  });
});
