// The benchmark run: the PyTorch peer and every backend in one invocation, each backend's measurements
// in child processes that are killed when they pass their time cap. Returns what report.ts writes.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getModelSpec } from '../src-main/engine/models';
import { modelWork, type ModelWork } from './flops';
import { loadAverage, MARK, round, type ChildEvent, type Figure, type LoadAverage } from './harness';
import { describeMachine, estimatePeak, type Machine, type Peak } from './machine';
import { ALEXNET_MEASURES, LENET_MEASURES, MEASURES, ONLY_ON } from './measures';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ALL_BACKENDS = ['wasm', 'webgpu', 'node', 'gpu', 'cpu'];
const PYTHON = '/usr/bin/python3';
export const MIN_TRAINING_IMAGES_PER_S = 100;

export interface BenchOptions {
  backends: string[];
  seconds: number;
  /** Overrides every measure's own cap (seconds, warm-up included). */
  cap?: number;
  peer: boolean;
  /** LeNet-5 measure rounds (best kept), each after a PyTorch reading. */
  rounds: number;
  /** Only these measures (default: all). */
  measures?: string[];
  /** Threads of ConvScope's wasm backend (default: every core). */
  threads?: number;
  log: (line: string) => void;
}

export type MeasureOutcome =
  | { status: 'ok' | 'too slow'; figure: Figure }
  | { status: 'killed'; reason: string; partial: { steps: number; seconds: number; value: number | null; unit: string }; load: LoadAverage }
  | { status: 'skipped'; reason: string }
  | { status: 'error'; reason: string };

export interface BackendResult {
  backend: string;
  status: 'ran' | 'unavailable';
  reason?: string;
  tfBackend?: string;
  versions?: Record<string, string>;
  detail?: Record<string, unknown>;
  measures: Record<string, MeasureOutcome>;
}

export interface PeerRun {
  when: string;
  /** The network measured (LeNet-5 unless 'alexnet'). */
  model?: 'lenet5' | 'alexnet';
  /** The backend whose LeNet-5 rounds this reading sits beside. */
  backend?: string;
  load: LoadAverage;
  result?: Record<string, unknown>;
  error?: string;
}

export interface BenchResults {
  generatedAt: string;
  command: string;
  seconds: number;
  rounds: number;
  machine: Machine;
  peak: Peak;
  work: Record<string, ModelWork>;
  peer: PeerRun[];
  backends: BackendResult[];
}

/** Runs the PyTorch peer script; its JSON line, or why it could not run. */
export function runPeer(args: string[], when: string, timeoutS: number): Promise<PeerRun> {
  const load = loadAverage();
  if (!existsSync(PYTHON)) return Promise.resolve({ when, load, error: `${PYTHON} not found (apt install python3-torch)` });
  return new Promise((resolve) => {
    const child = spawn(PYTHON, [path.join(BENCH_DIR, 'pytorch_peer.py'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = out.trim().split('\n').at(-1) ?? '';
      try {
        resolve({ when, load, result: JSON.parse(line) as Record<string, unknown> });
      } catch {
        resolve({ when, load, error: `exit ${code}: ${err.trim().split('\n').at(-1) ?? 'no output'}` });
      }
    });
  });
}

type ChildEnd =
  | { kind: 'done' }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'killed'; measure: string; why: 'cap' | 'too slow' }
  | { kind: 'crashed'; measure: string | null; stderr: string };

/** One child on `backend` for `measures`; results land in `into` as they arrive. */
function runChild(backend: string, measures: string[], o: BenchOptions, into: BackendResult): Promise<ChildEnd> {
  return new Promise((resolve) => {
    const args = ['--import', 'tsx', path.join(BENCH_DIR, 'measure-child.ts'), '--backend', backend, '--measures', measures.join(','), '--seconds', String(o.seconds)];
    if (o.cap) args.push('--cap', String(o.cap));
    if (o.threads) args.push('--threads', String(o.threads));
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let current: string | null = null;
    let partial: Extract<ChildEvent, { type: 'partial' }> | null = null;
    let started = 0;
    let timer: NodeJS.Timeout | null = null;
    let end: ChildEnd | null = null;
    let stderr = '';
    const kill = (e: ChildEnd) => {
      end = e;
      child.kill('SIGKILL');
    };
    const handle = (event: ChildEvent) => {
      switch (event.type) {
        case 'backend':
          Object.assign(into, { status: 'ran', tfBackend: event.tfBackend, versions: event.versions, detail: event.detail });
          o.log(`  ${backend}: ${event.tfBackend} ${Object.entries(event.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
          break;
        case 'unavailable':
          end = { kind: 'unavailable', reason: event.reason };
          break;
        case 'start': {
          current = event.measure;
          partial = null;
          started = performance.now();
          const cap = o.cap ?? MEASURES[event.measure].cap;
          if (timer) clearTimeout(timer);
          // Grace for the child to notice its own cap between steps and report.
          timer = setTimeout(() => kill({ kind: 'killed', measure: event.measure, why: 'cap' }), (cap * 1.2 + 10) * 1000);
          break;
        }
        case 'partial':
          partial = event;
          break;
        case 'result': {
          if (timer) clearTimeout(timer);
          // LeNet-5 training slower than this (an MNIST epoch would take over 10 minutes) counts as too slow.
          if (event.measure.startsWith('lenet') && MEASURES[event.measure].training && event.figure.unit === 'images/s' && event.figure.value < MIN_TRAINING_IMAGES_PER_S) {
            event.figure.tooSlow = true;
          }
          const tooSlow = event.figure.tooSlow === true;
          into.measures[event.measure] = { status: tooSlow ? 'too slow' : 'ok', figure: event.figure };
          o.log(`  ${backend} ${event.measure}: ${describeFigure(event.figure)}${tooSlow ? ' (too slow: partial)' : ''} [load ${event.figure.loadAfter[0]}]`);
          current = null;
          if (tooSlow && MEASURES[event.measure].training) kill({ kind: 'killed', measure: event.measure, why: 'too slow' });
          break;
        }
        case 'error':
          if (timer) clearTimeout(timer);
          into.measures[event.measure] = { status: 'error', reason: event.message };
          o.log(`  ${backend} ${event.measure}: error: ${event.message}`);
          current = null;
          break;
      }
    };
    onChildEvents(child.stdout, handle);
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      const ended = end as ChildEnd | null;
      if (ended?.kind === 'killed' && ended.why === 'cap' && current) {
        const seconds = partial ? partial.seconds : (performance.now() - started) / 1000;
        const steps = partial?.steps ?? 0;
        const value = partial && partial.unit === 'images/s' ? (steps * partial.perStep) / seconds : null;
        into.measures[current] = {
          status: 'killed',
          reason: `no result within its ${o.cap ?? MEASURES[current].cap} s cap`,
          partial: { steps, seconds: round(seconds, 2), value: value === null ? null : round(value, 2), unit: partial?.unit ?? 'images/s' },
          load: loadAverage(),
        };
        o.log(`  ${backend} ${current}: too slow, killed after ${round((performance.now() - started) / 1000)} s (${steps} timed steps)`);
      }
      if (ended) resolve(ended);
      else if (code === 0 && current === null) resolve({ kind: 'done' });
      else resolve({ kind: 'crashed', measure: current, stderr: stderr.trim().split('\n').slice(-3).join(' | ') });
    });
  });
}

export function describeFigure(f: Figure): string {
  return f.unit === 'ms' ? `${round(f.value, 2)} ms` : `${round(f.value, 1)} ${f.unit}`;
}

/** Runs `measures` on one backend, restarting the child after a kill; training measures after a too-slow one are skipped. */
async function runBackend(backend: string, measures: string[], o: BenchOptions, into: BackendResult): Promise<void> {
  const slow = Object.entries(into.measures).find(([m, r]) => MEASURES[m].training && (r.status === 'too slow' || r.status === 'killed'));
  for (const m of measures) {
    if (slow && MEASURES[m].training && !(m in into.measures)) into.measures[m] = { status: 'skipped', reason: `too slow: ${slow[0]} already was on ${backend}` };
  }
  let pending = measures.filter((m) => !(m in into.measures));
  while (pending.length > 0 && into.status !== 'unavailable') {
    const end = await runChild(backend, pending, o, into);
    if (end.kind === 'unavailable') {
      Object.assign(into, { status: 'unavailable', reason: end.reason });
      o.log(`  ${backend}: not available: ${end.reason}`);
      return;
    }
    if (end.kind === 'crashed') {
      const what = end.measure ?? pending.find((m) => !(m in into.measures));
      if (what) into.measures[what] = { status: 'error', reason: `the measuring process died: ${end.stderr || 'no message'}` };
      if (!what || into.status !== 'ran') {
        Object.assign(into, { status: 'unavailable', reason: `the measuring process died: ${end.stderr}` });
        return;
      }
    }
    if (end.kind === 'killed' && MEASURES[end.measure].training) {
      for (const m of pending) {
        if (!(m in into.measures) && MEASURES[m].training) into.measures[m] = { status: 'skipped', reason: `too slow: ${end.measure} already was on ${backend}` };
      }
    }
    pending = pending.filter((m) => !(m in into.measures));
  }
}

/** Better figure of two: more images/s or GFLOP/s, fewer ms. */
function better(a: Figure, b: Figure): Figure {
  return (a.unit === 'ms' ? a.value <= b.value : a.value >= b.value) ? a : b;
}

/** Keeps each measure's best figure over the rounds (an ok one over a too-slow one), every round's value in detail.rounds. */
function mergeBest(kept: Record<string, MeasureOutcome>, next: Record<string, MeasureOutcome>): Record<string, MeasureOutcome> {
  const out = { ...kept };
  for (const [name, o] of Object.entries(next)) {
    const k = kept[name];
    const earlier = k && (k.status === 'ok' || k.status === 'too slow') ? k : null;
    if (o.status !== 'ok' && o.status !== 'too slow') {
      if (!earlier) out[name] = o;
      continue;
    }
    const values = [...((earlier?.figure.detail?.rounds as number[] | undefined) ?? (earlier ? [earlier.figure.value] : [])), o.figure.value];
    let best: Extract<MeasureOutcome, { figure: Figure }> = o;
    if (earlier && (earlier.status === o.status ? better(earlier.figure, o.figure) === earlier.figure : earlier.status === 'ok')) best = earlier;
    out[name] = { status: best.status, figure: { ...best.figure, detail: { ...best.figure.detail, rounds: values.map((v) => round(v, 2)) } } };
  }
  return out;
}


export async function runBench(o: BenchOptions): Promise<BenchResults> {
  const machine = describeMachine();
  const results: BenchResults = {
    generatedAt: new Date().toISOString(),
    command: `convscope bench ${process.argv.slice(3).join(' ')}`.trim(),
    seconds: o.seconds,
    rounds: o.rounds,
    machine,
    peak: estimatePeak(machine),
    work: { lenet5: modelWork(getModelSpec('lenet5')), alexnet: modelWork(getModelSpec('alexnet')) },
    peer: [],
    backends: [],
  };
  o.log(`machine: ${machine.cpu}, ${machine.cores} cores at ${machine.mhz} MHz, ${machine.simd}; load ${machine.loadAtStart.join(' ')}`);
  const wanted = (list: string[]) => list.filter((m) => !o.measures || o.measures.includes(m));
  // PyTorch runs at 1 thread and at one per core, each reading in turn: ratios are taken against the
  // faster (its OpenMP default here is 1 thread, though 2 are faster on an idle 2-core machine).
  const peerThreads = [...new Set([1, machine.cores])];
  const peer = async (args: string[], when: string, backend?: string, model: 'lenet5' | 'alexnet' = 'lenet5') => {
    if (!o.peer) return;
    for (const threads of peerThreads) {
      const timeout = model === 'alexnet' ? 120 + o.seconds * 8 : 30 + o.seconds * 4;
      const run = await runPeer(['--seconds', String(o.seconds), '--threads', String(threads), '--model', model, ...args], when, timeout);
      if (backend) run.backend = backend;
      if (model !== 'lenet5') run.model = model;
      results.peer.push(run);
      o.log(`  pytorch (${when}, ${threads} thread${threads === 1 ? '' : 's'}): ${run.error ?? JSON.stringify(run.result)} [load ${run.load[0]}]`);
    }
  };
  const lenetWanted = wanted(LENET_MEASURES).length > 0;
  if (lenetWanted) await peer([], 'start');
  if (lenetWanted && o.peer) {
    const run = await runPeer(['--seconds', String(o.seconds), '--threads', String(machine.cores), '--peak'], 'peak', 30 + o.seconds * 4);
    results.peer.push(run);
    o.log(`  pytorch (peak): ${run.error ?? JSON.stringify(run.result)} [load ${run.load[0]}]`);
  }
  let alexnetPeers = false;
  for (const backend of o.backends) {
    o.log(`${backend}:`);
    const into: BackendResult = { backend, status: 'ran', measures: {} };
    results.backends.push(into);
    // LeNet-5 in rounds, each followed by a PyTorch reading (the first backend also has the opening
    // one): on a shared machine the best round of each is the least disturbed one, ours and the peer's.
    if (o.backends.indexOf(backend) === 0) for (const p of results.peer.filter((r) => r.when === 'start')) p.backend = backend;
    for (let round = 1; round <= o.rounds; round++) {
      const roundResult: BackendResult = { backend, status: 'ran', measures: {} };
      await runBackend(backend, wanted(LENET_MEASURES).filter((m) => (ONLY_ON[m] ?? backend) === backend), o, roundResult);
      Object.assign(into, { ...roundResult, measures: mergeBest(into.measures, roundResult.measures) });
      const trained = ['lenet-step', 'lenet-train'].some((m) => roundResult.measures[m]?.status === 'ok');
      if (into.status === 'unavailable' || !trained) break;
      await peer(['--only', 'train'], `after ${backend} LeNet-5, round ${round}`, backend);
    }
    await runBackend(backend, wanted(ALEXNET_MEASURES).filter((m) => (ONLY_ON[m] ?? backend) === backend), o, into);
    // PyTorch's AlexNet once, beside the first backend that measured its own.
    const alexnet = wanted(ALEXNET_MEASURES).filter((m) => into.measures[m]?.status === 'ok');
    if (!alexnetPeers && alexnet.length > 0) {
      alexnetPeers = true;
      if (alexnet.includes('alexnet-train')) await peer([], `after ${backend} AlexNet`, backend, 'alexnet');
      if (alexnet.includes('alexnet-inspect')) await peer(['--only', 'infer'], `after ${backend} AlexNet`, backend, 'alexnet');
    }
  }
  return results;
}

/** Calls `handle` with each event a measure child writes to `stdout` (its lines that start with MARK). */
function onChildEvents(stdout: NodeJS.ReadableStream, handle: (event: ChildEvent) => void): void {
  let buffer = '';
  stdout.on('data', (d: Buffer) => {
    buffer += d.toString();
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (line.startsWith(MARK)) handle(JSON.parse(line.slice(MARK.length)) as ChildEvent);
    }
  });
}

export type SoakOutcome = (MeasureOutcome | { status: 'unavailable'; reason: string }) & { threads?: number };

/** The memory soak in a child of its own; `steps` LeNet-5 steps at batch 32 (with the wasm thread count it ran on). */
export function runSoakChild(backend: string, steps: number, log: (line: string) => void, threads?: number): Promise<SoakOutcome> {
  return new Promise((resolve) => {
    const args = ['--import', 'tsx', path.join(BENCH_DIR, 'measure-child.ts'), '--backend', backend, '--soak', String(steps), ...(threads ? ['--threads', String(threads)] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let outcome: MeasureOutcome | { status: 'unavailable'; reason: string } | null = null;
    let ranOn: number | undefined;
    let stderr = '';
    onChildEvents(child.stdout, (event) => {
      if (event.type === 'backend' && typeof event.detail?.threads === 'number') ranOn = event.detail.threads;
      if (event.type === 'unavailable') outcome = { status: 'unavailable', reason: event.reason };
      else if (event.type === 'partial') log(`  soak: step ${event.steps} after ${round(event.seconds)} s [load ${loadAverage()[0]}]`);
      else if (event.type === 'result') outcome = { status: 'ok', figure: event.figure };
      else if (event.type === 'error') outcome = { status: 'error', reason: event.message };
    });
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.on('close', () => {
      const o = outcome ?? { status: 'error' as const, reason: `the soak process died: ${stderr.trim().split('\n').slice(-3).join(' | ')}` };
      resolve(ranOn === undefined ? o : { ...o, threads: ranOn });
    });
  });
}
