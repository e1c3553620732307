// The messages on the wire, after binary buffers are taken out (see envelope.ts): requests and cancels
// from the UI; replies, subscription events, subscription ends and notices from the engine side.
import * as v from 'valibot';
import { ErrorInfoSchema, type ErrorInfo } from './common';
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
  /** id null: the message was too broken to tell which request it was. */
  v.object({ kind: v.literal('reply'), id: v.nullable(IdSchema), ok: v.literal(false), error: ErrorInfoSchema }),
  v.object({ kind: v.literal('event'), id: IdSchema, event: v.unknown() }),
  v.object({ kind: v.literal('end'), id: IdSchema, error: v.optional(ErrorInfoSchema) }),
  v.object({ kind: v.literal('notice'), notice: EngineNoticeSchema }),
]);
export type ServerMessage = v.InferOutput<typeof ServerMessageSchema>;

export function errorMessage(id: number | null, error: ErrorInfo): ServerMessage {
  return { kind: 'reply', id, ok: false, error };
}

/** The id of something that looked like a request, for an error reply to a message that failed validation. */
export function salvageId(meta: unknown): number | null {
  if (typeof meta !== 'object' || meta === null) return null;
  const id = (meta as { id?: unknown }).id;
  return typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : null;
}
