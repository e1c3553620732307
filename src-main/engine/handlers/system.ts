// backendInfo, listDatasets.
import type { EngineHandlers } from '../../contract/api';
import type { DatasetInfo } from '../../contract/system';
import { builtinDatasets, openDataset } from '../data/registry';
import { backendLine } from './backend';
import type { EngineContext } from './context';

type SystemHandlers = Pick<EngineHandlers, 'backendInfo' | 'listDatasets'>;

export function systemHandlers(ctx: EngineContext): SystemHandlers {
  return {
    backendInfo: async () => {
      const report = await ctx.backend.ready();
      return { ...report, description: backendLine(report) };
    },

    listDatasets: async () => ({ datasets: await Promise.all(builtinDatasets().map(datasetInfo)) }),
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
