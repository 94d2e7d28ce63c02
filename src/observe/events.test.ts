import { describe, expect, it } from 'vitest';
import { EventBus, formatSse, type HubEvent } from './events.js';

describe('event bus', () => {
  it('replays buffered events after Last-Event-ID, then streams live ones', () => {
    const bus = new EventBus({ capacity: 3, now: () => 5 });
    for (let i = 1; i <= 5; i++) bus.publish('task.reminded', { id: i });
    const seen: number[] = [];
    const off = bus.subscribe((e) => {
      if (e.type === 'task.reminded') seen.push(e.data.id);
    }, 3);
    bus.publish('task.reminded', { id: 6 });
    off();
    bus.publish('task.reminded', { id: 7 });
    expect(seen).toEqual([4, 5, 6]);
    expect(bus.subscribers).toBe(0);
  });

  it('keeps publishing when a subscriber throws', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.subscribe(() => {
      throw new Error('broken view');
    });
    bus.subscribe((e) => seen.push(e.type));
    bus.publish('task.escalated', { id: 1 });
    expect(seen).toEqual(['task.escalated']);
  });

  it('formats SSE frames', () => {
    expect(formatSse({ id: 7, type: 'task.reminded', at: 1, data: { id: 42 } })).toBe(
      'id: 7\nevent: task.reminded\ndata: {"at":1,"id":42}\n\n',
    );
  });

  it('takes only the names and payloads of the event map (checked by tsc, which runs over the tests)', () => {
    const bus = new EventBus();
    const e: HubEvent<'delivery.redriven'> = bus.publish('delivery.redriven', { count: 2, by: 'api:ops' });
    expect(e).toMatchObject({ id: 1, type: 'delivery.redriven', data: { count: 2 } });
    // @ts-expect-error an event the map does not name (the dashboard once missed one it had no listener for)
    bus.publish('task.done', { id: 1 });
    // @ts-expect-error a field the event does not carry
    bus.publish('task.reminded', { id: 1, title: 'x' });
    // @ts-expect-error a field the event must carry
    bus.publish('delivery.redriven', { count: 1 });
    expect(bus.recent().map((x) => x.type)).toEqual([
      'delivery.redriven',
      'task.done',
      'task.reminded',
      'delivery.redriven',
    ]);
  });
});
