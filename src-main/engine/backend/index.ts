export { initBackend, parseBackendChoice, parseThreads, type InitBackendOptions } from './select';
export { defaultThreads, MAX_WASM_THREADS } from './threads';
export { describeBackend } from './describe';
export { BackendUnavailableError, InvalidBackendChoiceError, InvalidThreadsError } from './backend-errors';
export { registerWasmTrainingKernels, type WasmKernelChange } from './wasm-kernels/register';
export { BACKEND_KINDS, type BackendChoice, type BackendKind, type BackendReport, type SkippedBackend } from './types';
export type { ProbeDeps, ExecResult } from './probe-deps';
