// Errors as the contract carries them: ContractError on the calling side, ErrorInfo on the wire.
import * as v from 'valibot';
import type { ErrorCode, ErrorInfo, Issue } from './common';

export class ContractError extends Error {
  readonly code: ErrorCode;
  readonly reason?: string;
  readonly issues?: Issue[];
  constructor(info: ErrorInfo) {
    super(info.message);
    this.name = 'ContractError';
    this.code = info.code;
    if (info.reason !== undefined) this.reason = info.reason;
    if (info.issues !== undefined) this.issues = info.issues;
  }

  toInfo(): ErrorInfo {
    return {
      code: this.code,
      message: this.message,
      ...(this.reason !== undefined && { reason: this.reason }),
      ...(this.issues !== undefined && { issues: this.issues }),
    };
  }
}

export function issuesOf(issues: readonly v.BaseIssue<unknown>[]): Issue[] {
  return issues.slice(0, 20).map((issue) => ({ path: v.getDotPath(issue) ?? '', message: issue.message }));
}

/** One line naming the first few problems, e.g. "params.model.id: Invalid type ...". */
export function describeIssues(prefix: string, issues: readonly Issue[]): string {
  const parts = issues.slice(0, 3).map((i) => (i.path ? `${prefix}.${i.path}: ${i.message}` : `${prefix}: ${i.message}`));
  return parts.join('; ') + (issues.length > 3 ? ` (and ${issues.length - 3} more)` : '');
}

/**
 * How a handler's exception is reported: a ContractError keeps its code; an engine error meant for users
 * (userFacing, see engine/errors.ts) becomes 'user-error' with its own code as the reason; anything else
 * is 'internal'.
 */
export function toErrorInfo(err: unknown): ErrorInfo {
  if (err instanceof ContractError) return err.toInfo();
  if (typeof err === 'object' && err !== null) {
    const e = err as { userFacing?: unknown; code?: unknown; message?: unknown; name?: unknown };
    const message = typeof e.message === 'string' ? e.message : String(err);
    if (e.userFacing === true) return { code: 'user-error', message, ...(typeof e.code === 'string' && { reason: e.code }) };
    if (e.name === 'AbortError') return { code: 'cancelled', message };
    return { code: 'internal', message };
  }
  return { code: 'internal', message: String(err) };
}
