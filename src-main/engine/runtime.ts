// V8 settings for a process that runs the engine (the CLI, the web host's engine child, the app's engine
// utility process, the benchmark's children). Call once, first thing.
import v8 from 'node:v8';

let tuned = false;

/**
 * Turns off V8's incremental marking. Every inspection reads its activations back into fresh typed
 * arrays (some 5 MB for AlexNet), and the marking steps V8 then schedules on the event loop landed
 * inside the next inspection's awaits: the JPEG decode of an AlexNet inspection took a median 15-21 ms
 * instead of 5, and the whole inspection 66-69 ms instead of 51 (measured back to back, 2 cores).
 * Full collections still run when needed, as single pauses; the engine has no frames to keep smooth.
 */
export function tuneEngineRuntime(): void {
  if (tuned) return;
  v8.setFlagsFromString('--no-incremental-marking');
  tuned = true;
}
