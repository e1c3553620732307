// Model options: their definitions, `key=value` parsing and value checking.
import { OverrideError } from './errors';
import { formatShape, type OptionValue } from './spec';

export type OptionType =
  | { type: 'boolean' }
  | { type: 'number'; min: number; max: number; minExclusive?: boolean; maxExclusive?: boolean }
  | { type: 'integer'; min: number; max: number }
  | { type: 'enum'; values: readonly string[] }
  /** height x width x channels, e.g. 227x227x3 */
  | { type: 'shape' };

export type OptionDef = OptionType & {
  key: string;
  description: string;
  /** null: the model's own choice, explained in the description. */
  default: OptionValue | null;
};

/** What a user may pass: raw CLI strings or typed values from the UI. */
export type Overrides = Record<string, OptionValue>;

/** Parses repeatable `--set key=value` arguments (values stay strings; each model checks its own). */
export function parseOverrides(args: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    if (eq < 0) throw new OverrideError(`expected key=value, got '${arg}'`);
    const key = arg.slice(0, eq).trim();
    const value = arg.slice(eq + 1).trim();
    if (!key) throw new OverrideError(`missing key before '=' in '${arg}'`);
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(key)) throw new OverrideError(`'${key}' is not an option name (in '${arg}')`);
    if (!value) throw new OverrideError(`missing value after '=' in '${arg}'`);
    if (Object.hasOwn(out, key)) throw new OverrideError(`option '${key}' is given twice`);
    out[key] = value;
  }
  return out;
}

/** Checks one value against its definition and returns it typed (booleans and numbers from strings too). */
export function coerceOption(modelId: string, def: OptionDef, raw: OptionValue): OptionValue {
  const bad = (expected: string): never => {
    throw new OverrideError(`bad value '${String(raw)}' for option '${def.key}' of ${modelId}: expected ${expected}`);
  };
  const text = typeof raw === 'string' ? raw.trim() : raw;
  switch (def.type) {
    case 'boolean': {
      if (typeof text === 'boolean') return text;
      const t = String(text).toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return true;
      if (['false', '0', 'no', 'off'].includes(t)) return false;
      return bad('true or false');
    }
    case 'number':
    case 'integer': {
      const n = typeof text === 'number' ? text : typeof text === 'string' && text !== '' ? Number(text) : NaN;
      const expected = describeType(def);
      if (!Number.isFinite(n)) return bad(expected);
      if (def.type === 'integer' && !Number.isInteger(n)) return bad(expected);
      const lowOk = def.type === 'number' && def.minExclusive ? n > def.min : n >= def.min;
      const highOk = def.type === 'number' && def.maxExclusive ? n < def.max : n <= def.max;
      if (!lowOk || !highOk) return bad(expected);
      return n;
    }
    case 'enum': {
      const t = String(text);
      if (!def.values.includes(t)) return bad(describeType(def));
      return t;
    }
    case 'shape':
      if (typeof text !== 'string') return bad(describeType(def));
      return formatShape(parseShape(text) ?? bad(describeType(def)));
  }
}

/** 'HxWxC' -> [h, w, c], or null if malformed. Dimensions from 1 to 4096. */
export function parseShape(text: string): [number, number, number] | null {
  const m = /^\s*(\d+)\s*x\s*(\d+)\s*x\s*(\d+)\s*$/i.exec(text);
  if (!m) return null;
  const dims = [Number(m[1]), Number(m[2]), Number(m[3])] as [number, number, number];
  return dims.every((d) => d >= 1 && d <= 4096) ? dims : null;
}

/** e.g. 'a number in [0, 1)', 'one of glorot, he, paper'. */
export function describeType(def: OptionType): string {
  switch (def.type) {
    case 'boolean':
      return 'true or false';
    case 'number':
      return `a number in ${def.minExclusive ? '(' : '['}${def.min}, ${def.max}${def.maxExclusive ? ')' : ']'}`;
    case 'integer':
      return `a whole number from ${def.min} to ${def.max}`;
    case 'enum':
      return `one of ${def.values.join(', ')}`;
    case 'shape':
      return 'height x width x channels such as 227x227x3 (each 1 to 4096)';
  }
}
