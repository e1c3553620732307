// A run's held-out examples, opened the way its trainer opened them (same dataset, same stored
// preprocessing, same validation holdout), for evaluation and dead-ReLU probes.
import { openTrainData } from '../train/open-data';
import type { TrainSplit } from '../train/train-data';
import { ModelRefError } from './errors';
import type { ModelSource } from './model-ref';

export interface HeldOut {
  split: TrainSplit;
  /** 'test' (the dataset's own) or 'validation' (held out from the training examples). */
  kind: string;
  dataset: string;
  classNames: string[] | null;
  warnings: string[];
}

/** The run's full held-out split (its config's test limit is not applied). */
export async function openHeldOut(source: ModelSource): Promise<HeldOut> {
  if (source.kind !== 'run') throw new ModelRefError('evaluation needs a run folder: it knows its dataset and preprocessing');
  const config = { ...source.config, testLimit: null };
  const prepared = await openTrainData(config, source.spec, source.preprocess ?? undefined);
  const test = prepared.data.test;
  if (!test) throw new ModelRefError(`${source.runDir}: dataset ${config.dataset} has no held-out examples to evaluate on`);
  return {
    split: test,
    kind: prepared.dataset?.heldOut ?? 'test',
    dataset: config.dataset,
    classNames: prepared.dataset?.classNames ?? null,
    warnings: prepared.warnings,
  };
}
