// The machine a benchmark ran on, and its theoretical peak float32 FLOP/s estimated from the CPU:
// cores x clock x SIMD lanes x 2 (an FMA is a multiply and an add) x FMA units per core.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { loadAverage, type LoadAverage } from './harness';

export interface Machine {
  cpu: string;
  cores: number;
  mhz: number;
  simd: string;
  fma: boolean;
  memoryGiB: number;
  os: string;
  node: string;
  v8: string;
  loadAtStart: LoadAverage;
}

export interface Peak {
  assumption: string;
  gflopsPerCore: number;
  gflops: number;
  /** What WebAssembly SIMD128 code can reach on one core: 4 lanes and no FMA in the base set. */
  wasmSimd128GflopsPerCore: number;
}

/** The first value of a /proc/cpuinfo field ('' where there is none). */
function cpuinfo(field: string): string {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.split(':')[0].trim() === field);
    return line?.split(':')[1]?.trim() ?? '';
  } catch {
    return '';
  }
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  const flags = new Set(cpuinfo('flags').split(/\s+/).filter(Boolean));
  // Some VMs report a speed of 0 to os.cpus(); /proc/cpuinfo still has the clock.
  const mhz = cpus[0]?.speed || Math.round(Number(cpuinfo('cpu MHz')) || 0);
  const simd = flags.has('avx512f') ? 'AVX-512' : flags.has('avx2') ? 'AVX2' : flags.has('avx') ? 'AVX' : flags.size > 0 ? 'SSE' : 'unknown';
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    mhz,
    simd,
    fma: flags.has('fma'),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.versions.node,
    v8: process.versions.v8,
    loadAtStart: loadAverage(),
  };
}

const LANES: Record<string, number> = { 'AVX-512': 16, AVX2: 8, AVX: 8, SSE: 4, unknown: 4 };

/** Peak from the CPU's description; the assumptions are spelled out in the result. */
export function estimatePeak(m: Machine, fmaUnits = 2): Peak {
  const ghz = m.mhz / 1000;
  const lanes = LANES[m.simd];
  const perCycle = lanes * (m.fma ? 2 : 1) * fmaUnits;
  const perCore = ghz * perCycle;
  // SIMD128: 4 lanes; a multiply and a separate add, on (assumed) 2 multiply and 2 add pipes.
  const wasmPerCore = ghz * 4 * 2 * 2;
  return {
    assumption:
      `${m.cores} cores x ${ghz.toFixed(2)} GHz (clock as the OS reports it; turbo not counted) x ${lanes} float32 lanes (${m.simd}) x ` +
      `${m.fma ? '2 (FMA)' : '1 (no FMA)'} x ${fmaUnits} FMA units per core = ${perCycle} FLOP/cycle/core. WebAssembly SIMD128: 4 lanes, ` +
      'no FMA, assumed 2 multiply + 2 add pipes = 16 FLOP/cycle/core',
    gflopsPerCore: Math.round(perCore * 10) / 10,
    gflops: Math.round(perCore * m.cores * 10) / 10,
    wasmSimd128GflopsPerCore: Math.round(wasmPerCore * 10) / 10,
  };
}
