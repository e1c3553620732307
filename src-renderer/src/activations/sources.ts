// The models an image can be inspected with: the zoo model of the Architecture view (untrained), the
// runs on disk (their latest checkpoint), model files opened this session, and each run's initial
// weights (step 0), so the same image can be seen before and after training side by side.
import type { ModelRef } from '../../../src-main/contract/common';
import type { OpenModelResult, ModelInfo } from '../../../src-main/contract/models';
import type { RunSummary } from '../../../src-main/contract/training';

export interface ModelSource {
  key: string;
  label: string;
  ref: ModelRef;
}

export function modelSources(zoo: { id: string; overrides: Record<string, string | number | boolean> }, info: ModelInfo | undefined, runs: RunSummary[], opened: OpenModelResult[]): ModelSource[] {
  const sources: ModelSource[] = [];
  const overrides = Object.entries(zoo.overrides).map(([k, v]) => `${k}=${v}`).join(', ');
  sources.push({
    key: 'zoo',
    label: `${info?.title ?? zoo.id}${overrides ? ` (${overrides})` : ''}, untrained`,
    ref: { kind: 'zoo', id: zoo.id, overrides: zoo.overrides },
  });
  for (const r of runs) {
    const name = r.runDir.split(/[\\/]/).at(-1) ?? r.runDir;
    const acc = r.lastEpoch?.testAccuracy;
    sources.push({
      key: `run:${r.runDir}`,
      label: `Run ${name} (${r.modelId}, ${r.dataset}${acc != null && Number.isFinite(acc) ? `, ${(acc * 100).toFixed(1)}% test` : ''})`,
      ref: { kind: 'run', dir: r.runDir },
    });
  }
  for (const m of opened) {
    if (m.ref.kind === 'run') {
      const dir = m.ref.dir;
      if (!sources.some((s) => s.key === `run:${dir}`)) sources.push({ key: `run:${dir}`, label: `Run ${dir.split(/[\\/]/).at(-1)} (${m.format})`, ref: m.ref });
    } else if (m.ref.kind === 'file') {
      sources.push({ key: `file:${m.ref.path}`, label: `${m.ref.path.split(/[\\/]/).at(-1)} (${m.format})`, ref: m.ref });
    }
  }
  for (const s of sources.filter((x) => x.ref.kind === 'run')) {
    const dir = (s.ref as { dir: string }).dir;
    sources.push({ key: `run0:${dir}`, label: `Run ${dir.split(/[\\/]/).at(-1)} at step 0 (its initial weights)`, ref: { kind: 'run', dir, checkpoint: 0 } });
  }
  return sources;
}
