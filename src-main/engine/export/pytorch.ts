// `convscope export --to pytorch`: a self-contained Python package that trains the same experiment with
// PyTorch DDP and writes a ConvScope run folder. model.py is generated from the spec; data.py, train.py
// and runfolder.py are the readable templates in resources/export/pytorch; experiment.json holds the data
// they read (the training config, the spec, the tfjs topology and weight names for the final model folder).
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { tf } from '../tf';
import { buildModel, countParams, getModelSpec, type ModelSpec } from '../models';
import { appVersion, resourcesDir } from '../paths';
import { validateConfig, type TrainConfig } from '../train/config';
import { ExportError } from './errors';
import { modelCode } from './model-code';
import { readmeText } from './readme';

export const TEMPLATE_FILES = ['data.py', 'train.py', 'runfolder.py', 'export_onnx.py'] as const;
export const EXPERIMENT_FILE = 'experiment.json';

export interface ExportResult {
  dir: string;
  files: string[];
  spec: ModelSpec;
  parameters: number;
}

/** What the Python side reads: everything it needs, nothing it must recompute. */
export interface Experiment {
  convscopeVersion: string;
  config: TrainConfig;
  spec: ModelSpec;
  /** The tfjs layers-model topology ConvScope saves for this spec (the run's model/model.json). */
  topology: unknown;
  /** ConvScope's weight names in save order ('conv1/kernel', ...). */
  weights: string[];
  parameters: number;
}

export async function exportPytorch(config: TrainConfig, outDir: string): Promise<ExportResult> {
  validateConfig(config);
  const spec = getModelSpec(config.model.id, config.model.overrides);
  const dir = path.resolve(outDir);
  if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(path.join(dir, EXPERIMENT_FILE))) {
    throw new ExportError(`${dir} is not empty and holds no earlier export (${EXPERIMENT_FILE}); choose an empty or new folder`);
  }
  const templates = path.join(resourcesDir(), 'export', 'pytorch');
  const model = modelCode(await readFile(path.join(templates, 'model.py'), 'utf8'), spec);
  const { topology, weights } = await topologyOf(spec);
  const parameters = countParams(spec).total;
  const experiment: Experiment = { convscopeVersion: appVersion(), config, spec, topology, weights, parameters };
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'model.py'), model);
  for (const file of TEMPLATE_FILES) await copyFile(path.join(templates, file), path.join(dir, file));
  await writeFile(path.join(dir, EXPERIMENT_FILE), JSON.stringify(experiment, null, 1) + '\n');
  await writeFile(path.join(dir, 'README.md'), readmeText(experiment, dir));
  return { dir, files: ['model.py', ...TEMPLATE_FILES, EXPERIMENT_FILE, 'README.md'], spec, parameters };
}

/** The topology and weight order tfjs saves for the built spec (weights are built once, then freed; any backend). */
async function topologyOf(spec: ModelSpec): Promise<{ topology: unknown; weights: string[] }> {
  const model = buildModel(spec, { seed: 0 });
  try {
    let captured: { topology: unknown; weights: string[] } | null = null;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        captured = { topology: artifacts.modelTopology, weights: (artifacts.weightSpecs ?? []).map((w) => w.name) };
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    return captured!;
  } finally {
    model.dispose();
  }
}
