export const OUTPUT: string;
export function buildWasmKernels(): Promise<string>;
