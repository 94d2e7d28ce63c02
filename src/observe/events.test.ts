import { describe, expect, it } from 'vitest';
import { EventBus, formatSse } from './events.js';

describe('event bus', () => {
  it('replays buffered events after Last-Event-ID, then streams live ones', () => {
    const bus = new EventBus({ capacity: 3, now: () => 5 });
    for (let i = 1; i <= 5; i++) bus.publish('job.delivered', { n: i });
    const seen: number[] = [];
    const off = bus.subscribe((e) => seen.push(e.data['n'] as number), 3);
    bus.publish('job.delivered', { n: 6 });
    off();
    bus.publish('job.delivered', { n: 7 });
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
    bus.publish('task.done', {});
    expect(seen).toEqual(['task.done']);
  });

  it('formats SSE frames', () => {
    expect(formatSse({ id: 7, type: 'task.done', at: 1, data: { id: 42 } })).toBe(
      'id: 7\nevent: task.done\ndata: {"at":1,"id":42}\n\n',
    );
  });
});
