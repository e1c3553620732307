// Loads tfjs-node or tfjs-node-gpu into this process. Each registers and selects the backend
// 'tensorflow' itself; only one of them can ever be loaded per process.
import { createRequire } from 'node:module';
import { tf } from '../tf';
import { polyfillNodeUtil } from './node-util-polyfill';

/** Requires a native package; injectable so that tests can stand in for packages not installed here. */
export type NativeLoader = (pkg: string) => void;

const requireHere = createRequire(import.meta.url);

export const requireNative: NativeLoader = (pkg) => {
  polyfillNodeUtil();
  requireHere(pkg);
};

export type NativeBackendInfo = {
  isUsingGpuDevice: boolean;
  /** The libtensorflow version the addon reports, when it does. */
  tensorflow?: string;
};

let loadedPackage: string | null = null;

/** Loads `pkg` (once per process) and returns what its backend says about itself. Throws with the load error. */
export function loadNativeBackend(pkg: string, load: NativeLoader): NativeBackendInfo {
  if (loadedPackage !== null && loadedPackage !== pkg) {
    throw new Error(`${loadedPackage} is already loaded in this process; ${pkg} cannot be loaded beside it`);
  }
  if (loadedPackage === null) {
    load(pkg);
    loadedPackage = pkg;
  }
  if (!tf.findBackend('tensorflow')) {
    throw new Error(`${pkg} loaded but registered no 'tensorflow' backend with this copy of tfjs`);
  }
  if (tf.getBackend() !== 'tensorflow' && !tf.setBackend('tensorflow')) {
    throw new Error(`${pkg} loaded but its 'tensorflow' backend failed to initialise`);
  }
  const backend = tf.backend() as unknown as { isUsingGpuDevice?: unknown; binding?: { TF_Version?: unknown } };
  const tensorflow = backend.binding?.TF_Version;
  return {
    isUsingGpuDevice: backend.isUsingGpuDevice === true,
    ...(typeof tensorflow === 'string' ? { tensorflow } : {}),
  };
}
