/**
 * Counters of one StreamClient, returned as a snapshot by `client.stats()`. Plain numbers on the instance (no
 * module state), cheap enough to bump on every frame.
 */

import type { MalformedReason } from './frame.js';

export type ConnectionState =
  | 'idle'
  | 'connecting'
  | 'connected'
  | 'disconnected'
  | 'reconnecting'
  | 'stopped';

export interface StreamStats {
  state: ConnectionState;
  /** Successful WebSocket opens. */
  connects: number;
  /** Connects after the first one (drops, rotations). */
  reconnects: number;
  /** Open calls sent (each gets a fresh ticket). */
  openCalls: number;
  /** Open calls or WebSocket handshakes that failed. */
  connectFailures: number;
  /** Sockets closed because neither a pong nor a frame arrived within the ping window (half-open). */
  halfOpenDetected: number;
  /** SYSTEM `disconnect` notices that led to a rotation. */
  rotations: number;
  /**
   * Consecutive failures: failed connects, and connections closed or told to `disconnect` before they stayed up
   * for `healthyAfterMs`. The reconnect delay grows with it; it returns to 0 once a connection proves healthy.
   */
  failureStreak: number;
  frames: { SYSTEM: number; EVENT: number; CALLBACK: number };
  pings: number;
  acks: {
    /** EVENT consumed. */
    success: number;
    /** EVENT answered LATER (handler failed, `later()`, or saturated). */
    later: number;
    /** CALLBACK answered with a response. */
    callback: number;
    /** Error acks (data not JSON, handler failure of a CALLBACK, queue full). */
    error: number;
    /** 404: no handler for the topic. */
    notFound: number;
    /** EVENTs answered LATER, or CALLBACKs refused, because all handler slots were busy. */
    busy: number;
    /** Acks that could not be written because their socket had already closed (the gateway re-pushes). */
    dropped: number;
  };
  /** Frames skipped, by reason. */
  malformed: Partial<Record<MalformedReason, number>>;
  /** Frames received on a socket that was being replaced (not taken; the gateway re-pushes them). */
  droppedWhileDraining: number;
  /** Pushes whose messageId was already being handled (not run twice). */
  duplicatesInFlight: number;
  handlerErrors: number;
  /** Handlers running now. */
  inFlight: number;
  /** CALLBACKs waiting for a handler slot. */
  queued: number;
  /** Acks deferred with `ctx.deferAck()` and not yet sent. */
  deferred: number;
}

export function emptyStats(): StreamStats {
  return {
    state: 'idle',
    connects: 0,
    reconnects: 0,
    openCalls: 0,
    connectFailures: 0,
    halfOpenDetected: 0,
    rotations: 0,
    failureStreak: 0,
    frames: { SYSTEM: 0, EVENT: 0, CALLBACK: 0 },
    pings: 0,
    acks: { success: 0, later: 0, callback: 0, error: 0, notFound: 0, busy: 0, dropped: 0 },
    malformed: {},
    droppedWhileDraining: 0,
    duplicatesInFlight: 0,
    handlerErrors: 0,
    inFlight: 0,
    queued: 0,
    deferred: 0,
  };
}

export function cloneStats(s: StreamStats): StreamStats {
  return { ...s, frames: { ...s.frames }, acks: { ...s.acks }, malformed: { ...s.malformed } };
}
