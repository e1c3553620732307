// Legends for compared runs: only the settings that differ between them ("activation=relu, lr=0.01").

export type Flat = Record<string, string>;

/** A nested config as dotted keys with printable values; model overrides appear under their own names. */
export function flattenConfig(config: unknown): Flat {
  const out: Flat = {};
  const walk = (value: unknown, prefix: string) => {
    if (value === null || value === undefined) {
      if (prefix) out[prefix] = String(value);
      return;
    }
    if (typeof value === 'object' && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const key = prefix === 'model.overrides' ? k : prefix === 'model' && k === 'id' ? 'model' : prefix ? `${prefix}.${k}` : k;
        walk(v, key);
      }
      return;
    }
    out[prefix] = Array.isArray(value) ? value.join('x') : String(value);
  };
  walk(config, '');
  return out;
}

const SHORT: Record<string, string> = { 'optimizer.kind': 'optimizer', 'optimizer.lr': 'lr', 'optimizer.momentum': 'momentum', batchSize: 'batch', 'optimizer.weightDecay': 'weight decay' };

/**
 * One label per config naming the settings that differ among them (a setting absent from a config
 * counts as its default, shown as 'default'). Identical configs get 'run 1', 'run 2'...
 */
export function differingLabels(configs: unknown[]): string[] {
  const flats = configs.map(flattenConfig);
  const keys = [...new Set(flats.flatMap((f) => Object.keys(f)))].sort();
  const differing = keys.filter((k) => new Set(flats.map((f) => f[k] ?? 'default')).size > 1);
  return flats.map((f, i) => {
    const parts = differing.map((k) => `${SHORT[k] ?? k}=${f[k] ?? 'default'}`);
    return parts.length > 0 ? parts.join(', ') : `run ${i + 1}`;
  });
}
