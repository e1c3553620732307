import { describe, expect, it } from 'vitest';
import os from 'node:os';
import path from 'node:path';
import { checkParams, checkResult, METHODS, REQUESTS, requestPaths, resultFolders, tensor } from '../../src-main/contract';
import { folderOfId } from '../../src-main/engine/data/folder-id';

describe('contract schemas', () => {
  it('has a params and a result schema for every request the UI needs', () => {
    expect(METHODS.sort()).toEqual(
      [
        'appDefaults', 'attribute', 'backendInfo', 'deadRelu', 'evaluate', 'examples', 'inspect', 'kernelTimeline', 'kernels', 'listDatasets', 'listModels', 'listRuns', 'openModel', 'openRun',
        'pauseTraining', 'resumeRun', 'resumeTraining', 'runHistograms', 'startTraining', 'stopTraining', 'subscribeRun', 'summary', 'unitArithmetic', 'watchRuns',
        'topPatches', 'visualize', 'neighbours', 'embedding',
      ].sort(),
    );
    expect(Object.keys(REQUESTS.subscribeRun)).toContain('event');
  });

  it('takes a minimal training config and refuses unknown or impossible fields', () => {
    const minimal = { config: { model: { id: 'lenet5', overrides: { activation: 'relu' } }, dataset: 'mnist' } };
    expect(checkParams('startTraining', minimal).ok).toBe(true);
    const typo = checkParams('startTraining', { config: { ...minimal.config, epoch: 3 } });
    expect(typo).toMatchObject({ ok: false, error: { code: 'invalid-request', issues: [{ path: 'config.epoch' }] } });
    const bad = checkParams('startTraining', { config: { ...minimal.config, batchSize: 0, optimizer: { kind: 'sgd', lr: 0.01, momentum: 1, weightDecay: 0 } } });
    expect(bad.ok ? [] : bad.error.issues?.map((i) => i.path)).toEqual(['config.optimizer.momentum', 'config.batchSize']);
  });

  it('checks tensor data against the shape', () => {
    const good = { layers: [{ layer: 'conv1', kernel: tensor('float32', [11, 11, 3, 96], new Float32Array(11 * 11 * 3 * 96)) }] };
    expect(checkResult('kernels', good).ok).toBe(true);
    expect(() => tensor('float32', [2, 2], new Float32Array(3))).toThrow(RangeError);
    const wrongType = { layers: [{ layer: 'conv1', kernel: { dtype: 'float32', shape: [2], data: new Float64Array(2) } }] };
    expect(checkResult('kernels', wrongType).ok).toBe(false);
    // Example images: [n, h, w, c] with one label each.
    const examples = (shape: number[], labels: number) => ({ dataset: 'mnist', split: 'test', images: tensor('uint8', shape, new Uint8Array(shape.reduce((a, b) => a * b, 1))), labels: new Int32Array(labels), classNames: ['0', '1'] });
    expect(checkResult('examples', examples([2, 28, 28, 1], 2)).ok).toBe(true);
    expect(checkResult('examples', examples([2, 28, 28, 1], 3)).ok).toBe(false);
    expect(checkResult('examples', examples([2 * 28, 28, 1], 2)).ok).toBe(false);
  });

  it('names every path a request would touch, and the run folders a result hands out', () => {
    const run = { kind: 'run' as const, dir: '/runs/a' };
    expect(requestPaths('inspect', { image: { kind: 'path', path: '/pics/cat.png' }, model: { kind: 'file', path: '/models/m.onnx' } }, folderOfId)).toEqual(['/pics/cat.png', '/models/m.onnx']);
    expect(requestPaths('inspect', { image: { kind: 'bytes', data: new Uint8Array(1) }, model: { kind: 'zoo', id: 'lenet5', overrides: {} } }, folderOfId)).toEqual([]);
    expect(requestPaths('evaluate', { model: run, dataset: 'folder:/data/cats' }, folderOfId)).toEqual(['/runs/a', '/data/cats']);
    expect(requestPaths('inspect', { image: { kind: 'example', dataset: 'folder:/data/cats', split: 'test', index: 3 }, model: run }, folderOfId)).toEqual(['/data/cats', '/runs/a']);
    expect(checkParams('inspect', { image: { kind: 'example', split: 'test', index: -1 }, model: run }).ok).toBe(false);
    expect(requestPaths('examples', { model: run, dataset: 'folder:/data/cats', split: 'test', indices: [1] }, folderOfId)).toEqual(['/runs/a', '/data/cats']);
    expect(requestPaths('examples', { model: run, split: 'train', indices: [1] }, folderOfId)).toEqual(['/runs/a']);
    expect(requestPaths('startTraining', { config: { model: { id: 'lenet5', overrides: {} }, dataset: 'folder:/data/x' } }, folderOfId)).toEqual(['/data/x']);
    expect(requestPaths('startTraining', { config: { model: { id: 'lenet5', overrides: {} }, dataset: 'mnist' } }, folderOfId)).toEqual([]);
    expect(requestPaths('kernelTimeline', { runDir: '/runs/b', layer: 'conv1' }, folderOfId)).toEqual(['/runs/b']);
    expect(requestPaths('listRuns', {}, folderOfId)).toEqual([]);
    // Dataset folders as the engine reads them: ~ is the home folder, a relative path is from the cwd.
    expect(requestPaths('evaluate', { model: run, dataset: 'folder:~/ds' }, folderOfId)).toEqual(['/runs/a', path.join(os.homedir(), 'ds')]);
    expect(requestPaths('startTraining', { config: { model: { id: 'lenet5', overrides: {} }, dataset: 'folder:~' } }, folderOfId)).toEqual([os.homedir()]);
    expect(requestPaths('examples', { model: run, dataset: 'folder:ds', split: 'test', indices: [1] }, folderOfId)).toEqual(['/runs/a', path.resolve('ds')]);
    expect(resultFolders('startTraining', { runId: 'r1', runDir: '/runs/c' })).toEqual(['/runs/c']);
    expect(resultFolders('summary', {})).toEqual([]);
  });
});
