import { parseArgs, type ParseArgsConfig } from 'node:util';
import { defaultThreads, MAX_WASM_THREADS } from '../engine/backend/threads';
import { UsageError } from './errors';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/** Strict flag parsing: an unknown flag or a missing value is a UsageError naming it. */
export function parseFlags<O extends OptionSpec>(argv: string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional.*$/s, '.'));
  }
}

export function intFlag(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${value}'`);
  return n;
}

export function numberFlag(name: string, value: string | undefined, fallback: number, min = 0): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new UsageError(`--${name} must be a number >= ${min}, got '${value}'`);
  return n;
}

export function choiceFlag<T extends string>(name: string, value: string | undefined, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}; got '${value}'`);
  }
  return value as T;
}

/** --threads N: the wasm backend's thread count (undefined when not given: every core). */
export function threadsFlag(value: string | undefined, name = 'threads'): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > MAX_WASM_THREADS) throw new UsageError(`--${name} must be a whole number from 1 to ${MAX_WASM_THREADS}, got '${value}'`);
  return n;
}

/** The line every command that computes shows in its help. */
export const THREADS_HELP = `threads of the wasm backend, 1 to ${MAX_WASM_THREADS} (default: every core, here ${defaultThreads()})`;
