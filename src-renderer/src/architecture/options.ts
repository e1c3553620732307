// Turning a model option (as the zoo describes it) into the right control, and option values back.
export type OptionValue = string | number | boolean;

export type OptionControl =
  | { type: 'boolean' }
  | { type: 'enum'; values: string[] }
  | { type: 'number'; min: number; max: number; step: number; integer: boolean; minExclusive: boolean; maxExclusive: boolean }
  | { type: 'text' };

/** Reads the zoo's "accepts" phrase ('true or false', 'one of relu, tanh', 'a number in [0, 1)', ...). */
export function controlFor(accepts: string): OptionControl {
  if (accepts === 'true or false') return { type: 'boolean' };
  const oneOf = /^one of (.+)$/.exec(accepts);
  if (oneOf) return { type: 'enum', values: oneOf[1].split(',').map((s) => s.trim()) };
  const range = /^a number in ([[(])(-?[\d.e+-]+), (-?[\d.e+-]+)([\])])$/.exec(accepts);
  if (range) {
    const min = Number(range[2]);
    const max = Number(range[3]);
    return { type: 'number', min, max, step: max - min <= 1 ? 0.05 : 0.25, integer: false, minExclusive: range[1] === '(', maxExclusive: range[4] === ')' };
  }
  const whole = /^a whole number from (-?\d+) to (-?\d+)$/.exec(accepts);
  if (whole) return { type: 'number', min: Number(whole[1]), max: Number(whole[2]), step: 1, integer: true, minExclusive: false, maxExclusive: false };
  return { type: 'text' };
}

/** Checks a typed value against its control; returns an error sentence or null. */
export function checkValue(control: OptionControl, value: OptionValue): string | null {
  if (control.type !== 'number') return null;
  const n = Number(value);
  if (!Number.isFinite(n)) return 'enter a number';
  if (control.integer && !Number.isInteger(n)) return 'enter a whole number';
  if (control.minExclusive ? n <= control.min : n < control.min) return `must be ${control.minExclusive ? 'above' : 'at least'} ${control.min}`;
  if (control.maxExclusive ? n >= control.max : n > control.max) return `must be ${control.maxExclusive ? 'below' : 'at most'} ${control.max}`;
  return null;
}

/** Only the options that differ from their defaults (what a run's config records). */
export function changedOptions(values: Record<string, OptionValue>, defaults: Record<string, OptionValue | null>): Record<string, OptionValue> {
  const out: Record<string, OptionValue> = {};
  for (const [k, v] of Object.entries(values)) if (defaults[k] !== v) out[k] = v;
  return out;
}
