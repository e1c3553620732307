// backendInfo, listDatasets, appDefaults.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { EngineHandlers } from '../../contract/api';
import type { AppDefaults, DatasetInfo } from '../../contract/system';
import { resourcesDir } from '../paths';
import { builtinDatasets, openDataset } from '../data/registry';
import { backendLine } from './backend';
import type { EngineContext } from './context';

type SystemHandlers = Pick<EngineHandlers, 'backendInfo' | 'listDatasets' | 'appDefaults'>;

export function systemHandlers(ctx: EngineContext): SystemHandlers {
  return {
    backendInfo: async () => {
      const report = await ctx.backend.ready();
      return { ...report, description: backendLine(report) };
    },

    listDatasets: async () => ({ datasets: await Promise.all(builtinDatasets().map(datasetInfo)) }),

    appDefaults: () => appDefaults(resourcesDir()),
  };
}

/** The bundled pretrained LeNet-5 run and the sample images under `resources` (the 7 first: MNIST's first test image). */
export function appDefaults(resources: string): AppDefaults {
  const run = path.join(resources, 'pretrained', 'lenet5-mnist');
  const samplesDir = path.join(resources, 'samples');
  const names = existsSync(samplesDir) ? readdirSync(samplesDir).filter((n) => /\.(png|jpe?g|webp)$/i.test(n)).sort() : [];
  const first = 'mnist-7-test0.png';
  const ordered = [...names.filter((n) => n === first), ...names.filter((n) => n !== first)];
  return {
    run: existsSync(path.join(run, 'config.json')) ? run : null,
    samples: ordered.map((name) => ({ name, path: path.join(samplesDir, name) })),
  };
}

async function datasetInfo(d: ReturnType<typeof builtinDatasets>[number]): Promise<DatasetInfo> {
  return {
    id: d.id,
    title: d.title,
    available: d.location !== null,
    classes: d.classNames.length,
    shape: [...d.shape],
    trainSize: d.trainCount,
    testSize: d.testCount,
    // The data module's own words on where it looked and how to get the files.
    note: d.location !== null ? null : await openDataset(d.id).then(() => null, (err: Error) => err.message),
  };
}
