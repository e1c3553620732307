// The contract lists the engine's loss and augmentation kinds itself (the renderer must not import the
// engine); they must stay the same lists, and a UI's config with them reaches the engine's TrainConfig.
import { describe, it, expect } from 'vitest';
import * as v from 'valibot';
import { AUGMENT_KINDS, LOSS_KINDS, TrainingConfigSchema } from '../../src-main/contract/training';
import { AUGMENT_KINDS as ENGINE_AUGMENT_KINDS, LOSS_KINDS as ENGINE_LOSS_KINDS, validateConfig } from '../../src-main/engine/train';
import { trainConfig } from '../../src-main/engine/handlers/training';

describe('training options in the contract', () => {
  it('lists exactly the engine’s loss and augmentation kinds', () => {
    expect([...LOSS_KINDS]).toEqual([...ENGINE_LOSS_KINDS]);
    expect([...AUGMENT_KINDS]).toEqual([...ENGINE_AUGMENT_KINDS]);
  });

  it('carries loss, augment and storedSize into the engine config, and refuses unknown values', () => {
    const given = v.parse(TrainingConfigSchema, { model: { id: 'alexnet', overrides: {} }, dataset: 'folder:/data/pets', loss: 'keras-clipped', augment: 'paper', storedSize: 256 });
    const config = trainConfig(given, 'wasm');
    expect(config).toMatchObject({ loss: 'keras-clipped', augment: 'paper', storedSize: 256, backend: 'wasm' });
    expect(() => validateConfig(config)).not.toThrow();
    const defaults = trainConfig(v.parse(TrainingConfigSchema, { model: { id: 'lenet5', overrides: {} }, dataset: 'mnist' }), 'wasm');
    expect(defaults).toMatchObject({ loss: 'logits', augment: 'none', storedSize: null });
    expect(v.safeParse(TrainingConfigSchema, { model: { id: 'lenet5', overrides: {} }, dataset: 'mnist', loss: 'mse' }).success).toBe(false);
    expect(v.safeParse(TrainingConfigSchema, { model: { id: 'lenet5', overrides: {} }, dataset: 'mnist', augment: 'flip' }).success).toBe(false);
  });
});
