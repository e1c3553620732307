// V8 settings for a process that runs the engine (the CLI, the web host's engine child, the app's engine
// utility process, the benchmark's children). Call once, first thing.
import v8 from 'node:v8';

let tuned = false;

/**
 * Turns off V8's concurrent marking: the garbage collector's marking then runs in small steps on the
 * engine's own thread instead of on a helper thread. Every inspection reads its activations back into
 * fresh typed arrays (some 5 MB for AlexNet), which keeps marking going, and on a 2-core machine the
 * helper thread competed with sharp's decoder thread: an AlexNet inspection's JPEG decode took a median
 * 14-21 ms instead of 7, back to back. (Turning incremental marking off altogether did as much for the
 * decode but let a long training run's heap grow to 200 MiB between collections; this keeps it flat.)
 */
export function tuneEngineRuntime(): void {
  if (tuned) return;
  v8.setFlagsFromString('--no-concurrent-marking');
  tuned = true;
}
