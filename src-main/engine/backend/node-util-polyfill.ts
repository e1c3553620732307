// tfjs-node 4.22 calls util.isNullOrUndefined and util.isArray, which Node 23 removed (Electron 40+
// ships Node 24). Define them before tfjs-node is required. The probe child runs the same source.
import nodeUtil from 'node:util';

export const UTIL_POLYFILL_SOURCE =
  "if (typeof util.isNullOrUndefined !== 'function') util.isNullOrUndefined = (v) => v === null || v === undefined;\n" +
  "if (typeof util.isArray !== 'function') util.isArray = Array.isArray;\n";

type LegacyUtil = { isNullOrUndefined?: unknown; isArray?: unknown };

/** Adds the two removed functions to `util` (the module object require('util') returns) if missing. */
export function polyfillNodeUtil(util: LegacyUtil = nodeUtil as unknown as LegacyUtil): void {
  if (typeof util.isNullOrUndefined !== 'function') {
    util.isNullOrUndefined = (v: unknown) => v === null || v === undefined;
  }
  if (typeof util.isArray !== 'function') util.isArray = Array.isArray;
}
