// listModels, summary, openModel.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ModelRef } from '../../contract/common';
import type { EngineHandlers } from '../../contract/api';
import { isRunFolder } from '../inspect';
import { getModelSpec, listModels, summarizeModel, summarizeSpec } from '../models';
import type { EngineContext } from './context';
import { notFound } from './errors';

type ModelHandlers = Pick<EngineHandlers, 'listModels' | 'summary' | 'openModel'>;

export function modelHandlers(ctx: EngineContext): ModelHandlers {
  return {
    listModels: () => ({ models: listModels() }),

    // A zoo model's summary comes from its spec (no weights built: AlexNet's 61M parameters cost nothing).
    summary: async ({ model }) => (model.kind === 'zoo' ? summarizeSpec(getModelSpec(model.id, model.overrides)) : ctx.withModel(model, (m) => summarizeModel(m.model))),

    openModel: async ({ path: given }) => {
      const where = path.resolve(given);
      const s = await stat(where).catch(() => null);
      if (!s) throw notFound(`no file or folder at ${where}`);
      const ref: ModelRef = s.isDirectory() && isRunFolder(where) ? { kind: 'run', dir: where } : { kind: 'file', path: where };
      return ctx.withModel(ref, (m) => ({
        ref,
        format: m.format,
        summary: summarizeModel(m.model),
        input: m.input,
        classNames: m.classNames ? [...m.classNames] : null,
        warnings: [...m.warnings],
      }));
    },
  };
}
