// The engine utility process's entry (built to out/main/engine.js): the real engine, served to main and
// the window. Args: --runs-dir=DIR.
import { createEngine } from '../engine/handlers';
import { serveInUtilityProcess } from './engine-utility';
import { tuneEngineRuntime } from '../engine/runtime';

tuneEngineRuntime();

const RUNS_ARG = '--runs-dir=';
const runsDir = process.argv.find((a) => a.startsWith(RUNS_ARG))?.slice(RUNS_ARG.length);
if (!runsDir) throw new Error(`engine: start it with ${RUNS_ARG}DIR`);

const engine = createEngine({ runsDir, argv: ['convscope-app'] });
serveInUtilityProcess(process.parentPort, engine.handlers, {
  onInternalError: (method, err) => console.error(`engine: ${method} failed:`, err),
  // Live runs write a checkpoint before the process goes.
  onShutdown: () => void engine.shutdown().finally(() => process.exit(0)),
});
