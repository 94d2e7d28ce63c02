/**
 * Public types of the emulator's Stream gateway (docs/dingtalk.md §S1–§S6, §S9, §S13).
 */
import type { FrameType, MalformedReason } from './frames.js';

export interface StreamGatewayOptions {
  /** Validates clientId/clientSecret (the open call's credentials, §S2). */
  authenticate(clientId: string, clientSecret: string): boolean;
  /**
   * ws:// base the open call hands out; the endpoint is `base + '/connect'` (§S3: explicit port, no query).
   * @example () => `ws://127.0.0.1:${port}`
   */
  wsBase(): string;
  /** SYSTEM ping cadence. @default 30_000 */
  pingIntervalMs?: number;
  /** A ping not echoed within this is a dead connection, terminated. @default 10_000 */
  pingTimeoutMs?: number;
  /** Ticket lifetime; tickets are single use (§S1 step 3). @default 90_000 */
  ticketTtlMs?: number;
  /** Unacked or not-consumed EVENTs are pushed again after this (§S9). @default 60_000 */
  redeliverAfterMs?: number;
  /** Bot-message CALLBACKs pushed again when unacked; the sources conflict, so off by default (§S9). @default false */
  redeliverCallbacks?: boolean;
  /** After SYSTEM disconnect, the gateway closes the socket itself after this (§S1 step 7, §S13). @default 10_000 */
  disconnectGraceMs?: number;
  /** Largest client frame accepted, in bytes (memory stays bounded). @default 1_048_576 */
  maxClientFrameBytes?: number;
  /** Clock for log timestamps and ticket expiry. @default Date.now */
  now?: () => number;
  /** Random source for connection choice and faults unless `setFaults({ seed })` replaces it. @default Math.random */
  random?: () => number;
}

export interface StreamFaults {
  /** Terminate every open socket (no SYSTEM disconnect) every N ms; undefined stops it. */
  dropEveryMs?: number | undefined;
  /** Share (0..1) of consumed frames pushed again under a fresh messageId, as the platform may (§S9). */
  repushAckedRate?: number | undefined;
  /** Refuse every WebSocket handshake with 503 (the ticket is still spent), for reconnect-storm tests. */
  refuseUpgrades?: boolean | undefined;
  /** Accept the handshake, then terminate the socket at once ("closes right after open"). */
  closeAfterOpen?: boolean | undefined;
  /** Reseeds the gateway's random source so a fault schedule replays. */
  seed?: number | undefined;
}

export interface PushedEvent {
  eventType: string;
  eventId?: string;
  corpId?: string;
  /** Unified app id header; defaults to the clientId. */
  unifiedAppId?: string;
  /** When the event happened (Unix ms); defaults to now. */
  bornTime?: number;
  data: unknown;
}

/** Why a frame went out: first push, or which redelivery path re-sent it. */
export type PushReason = 'first' | 'unacked' | 'not_consumed' | 'connection_closed' | 'acked_repush';

export interface FrameLogEntry {
  at: number;
  messageId: string;
  type: FrameType;
  topic: string;
  clientId: string;
  connectionId: string;
  reason: PushReason;
  /** For redeliveries under a new messageId (acked_repush): the original messageId. */
  originalMessageId?: string;
  eventId?: string;
}

export interface AckLogEntry {
  at: number;
  messageId: string;
  connectionId: string;
  code: number;
  data: string;
  /** What the ack settled: a tracked EVENT/CALLBACK, a ping echo, or a frame already settled before. */
  kind: 'event' | 'callback' | 'ping' | 'late';
  consumed: boolean;
}

export interface ConnectionLogEntry {
  connectionId: string;
  clientId: string;
  ua: string;
  subscriptions: Array<{ type: string; topic: string }>;
  openedAt: number;
  closedAt: number | undefined;
  closeReason: string | undefined;
}

export interface OpenLogEntry {
  at: number;
  clientId: string | undefined;
  status: number;
  /** The ticket handed out (not a secret of the app: it only opens one socket, once). */
  ticket: string | undefined;
  ticketUsedAt: number | undefined;
}

export interface FaultLogEntry {
  at: number;
  kind:
    | 'drop'
    | 'disconnect'
    | 'ping_timeout'
    | 'ticket_refused'
    | 'close_after_disconnect'
    | 'upgrade_refused'
    | 'close_after_open';
  connectionId: string | undefined;
  detail: string | undefined;
}

export interface StreamGatewayLog {
  frames: readonly FrameLogEntry[];
  acks: readonly AckLogEntry[];
  connections: readonly ConnectionLogEntry[];
  opens: readonly OpenLogEntry[];
  faults: readonly FaultLogEntry[];
}

export interface StreamGatewayStats {
  framesPushed: number;
  redeliveries: number;
  acks: number;
  pendingFrames: number;
  /** Frames waiting because the app has no connection subscribed to their topic. */
  backlog: number;
  openConnections: number;
  pings: number;
  malformed: Record<MalformedReason, number>;
}
