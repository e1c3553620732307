// The messages on the wire, after binary buffers are taken out (see envelope.ts): requests and cancels
// from the UI; replies, subscription events, subscription ends and notices from the engine side.
import * as v from 'valibot';
import { ErrorInfoSchema, type ErrorInfo } from './common';
import { decodePacket, isPacket } from './envelope';
import { describeIssues, issuesOf } from './errors';
import type { UndecodableFrame } from './port';
import { RunHandleSchema } from './training';

const IdSchema = v.pipe(v.number(), v.safeInteger(), v.minValue(0));

export const RequestMessageSchema = v.object({ kind: v.literal('request'), id: IdSchema, method: v.string(), params: v.unknown() });
export const CancelMessageSchema = v.object({ kind: v.literal('cancel'), id: IdSchema });
export const ClientMessageSchema = v.variant('kind', [RequestMessageSchema, CancelMessageSchema]);
export type RequestMessage = v.InferOutput<typeof RequestMessageSchema>;
export type ClientMessage = v.InferOutput<typeof ClientMessageSchema>;

/** Sent by the host, not the engine: the engine process was restarted, or cannot be. */
export const EngineNoticeSchema = v.variant('type', [
  v.object({
    type: v.literal('engine-restarted'),
    reason: v.string(),
    /** Runs that were training when the engine died, continued from their last checkpoint (new runIds). */
    resumed: v.array(RunHandleSchema),
    resumeErrors: v.array(v.object({ runDir: v.string(), message: v.string() })),
  }),
  v.object({ type: v.literal('engine-unavailable'), reason: v.string() }),
]);
export type EngineNotice = v.InferOutput<typeof EngineNoticeSchema>;

export const ServerMessageSchema = v.union([
  v.object({ kind: v.literal('reply'), id: IdSchema, ok: v.literal(true), result: v.unknown() }),
  /** id: the request's as sent, even where it was not a valid id; null: the message was too broken to tell. */
  v.object({ kind: v.literal('reply'), id: v.nullable(v.pipe(v.number(), v.finite())), ok: v.literal(false), error: ErrorInfoSchema }),
  v.object({ kind: v.literal('event'), id: IdSchema, event: v.unknown() }),
  v.object({ kind: v.literal('end'), id: IdSchema, error: v.optional(ErrorInfoSchema) }),
  v.object({ kind: v.literal('notice'), notice: EngineNoticeSchema }),
]);
export type ServerMessage = v.InferOutput<typeof ServerMessageSchema>;

/**
 * WebSocket close codes of `convscope serve` beyond the protocol's own (1002, 1007, 1009: a broken frame).
 * Token refused: retrying cannot help. Too slow: the client left too many replies unread (try again later).
 */
export const CLOSE_TOKEN_REFUSED = 4401;
export const CLOSE_TOO_SLOW = 1013;

export function errorMessage(id: number | null, error: ErrorInfo): ServerMessage {
  return { kind: 'reply', id, ok: false, error };
}

/** The id of something that looked like a message (any finite number, valid or not), for its error reply. */
export function salvageId(meta: unknown): number | null {
  if (typeof meta !== 'object' || meta === null) return null;
  const id = (meta as { id?: unknown }).id;
  return typeof id === 'number' && Number.isFinite(id) ? id : null;
}

export type ReadClientMessage = { ok: true; message: ClientMessage } | { ok: false; id: number | null; error: ErrorInfo };

const MAX_ERROR_TEXT = 400;
const clip = (text: string) => (text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT)}...` : text);

/**
 * A received packet (or undecodable frame) as a checked client message, or the invalid-request error to
 * answer it with, carrying the message's id wherever it was readable. Never throws, whatever arrives.
 */
export function readClientMessage(raw: unknown): ReadClientMessage {
  const invalid = (id: number | null, message: string, issues?: ErrorInfo['issues']): ReadClientMessage => ({
    ok: false,
    id,
    error: { code: 'invalid-request', message: clip(message), ...(issues && { issues: issues.map((i) => ({ path: clip(i.path), message: clip(i.message) })) }) },
  });
  if (!isPacket(raw)) {
    const frame = raw as Partial<UndecodableFrame> | null;
    if (typeof frame === 'object' && frame !== null && typeof frame.undecodable === 'string') return invalid(frame.id ?? null, `undecodable frame: ${frame.undecodable}`);
    return invalid(null, 'the message is not a packet');
  }
  let decoded: unknown;
  try {
    decoded = decodePacket(raw);
  } catch (err) {
    return invalid(salvageId(raw.meta), err instanceof Error ? err.message : String(err));
  }
  const parsed = v.safeParse(ClientMessageSchema, decoded);
  if (!parsed.success) {
    const issues = issuesOf(parsed.issues);
    return invalid(salvageId(decoded), describeIssues('message', issues), issues);
  }
  return { ok: true, message: parsed.output };
}
