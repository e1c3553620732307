// Which checkpoint a resume continues from. The trainer keeps the latest (checkpoint.bin) and, by default, the one
// before it (checkpoint.prev.bin). A resume takes the latest; a latest that fails its checksum is refused by name,
// offering the previous one when that is intact (resume --from-previous); a writer killed between its two renames
// leaves only the previous one, which is then the newest and is taken as is.
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { readCheckpointFile } from './checkpoint-file';
import { RunFolderError } from './errors';
import { RUN_FILES } from './run-folder';
import type { Checkpoint, CheckpointMeta } from './trainer';

/** The refusal's code when the previous checkpoint is intact (a UI offers resuming from it). */
const PREVIOUS_INTACT = 'checkpoint-corrupt-previous-intact';

const isDamaged = (err: unknown) => err instanceof RunFolderError && err.code === 'checkpoint-corrupt';

/** The checkpoint at `file`, null when there is none, or the error that refused it. */
async function tryRead(file: string): Promise<Checkpoint | null | RunFolderError> {
  try {
    return await readCheckpointFile<CheckpointMeta>(file);
  } catch (err) {
    if (isDamaged(err)) return err as RunFolderError;
    throw err;
  }
}

/** The command that resumes `dir` from its previous checkpoint (what the refusal offers). */
const fromPreviousCommand = (dir: string) => `convscope train --resume ${dir} --from-previous`;

/**
 * The checkpoint to resume `dir` from, or null when it has none. With `fromPrevious` it is checkpoint.prev.bin,
 * which is then renamed over the damaged latest (so the next checkpoint write keeps it as the previous one).
 */
export async function checkpointToResume(dir: string, fromPrevious = false): Promise<Checkpoint | null> {
  const latestFile = path.join(dir, RUN_FILES.checkpoint);
  const previousFile = path.join(dir, RUN_FILES.previousCheckpoint);
  const latest = await tryRead(latestFile);
  if (fromPrevious) {
    if (latest && !(latest instanceof RunFolderError)) {
      throw new RunFolderError(`${latestFile} is intact (step ${latest.meta.position.globalStep}); --from-previous is for a run whose latest checkpoint is damaged: resume without it`);
    }
    const previous = await tryRead(previousFile);
    if (previous instanceof RunFolderError) throw new RunFolderError(`${previous.message}; no intact checkpoint is left: start the run again`, 'checkpoint-corrupt');
    if (!previous) throw new RunFolderError(`${dir} has no previous checkpoint (${RUN_FILES.previousCheckpoint}) to resume from`);
    await rename(previousFile, latestFile);
    return previous;
  }
  if (latest instanceof RunFolderError) {
    const previous = await tryRead(previousFile);
    if (previous && !(previous instanceof RunFolderError)) {
      throw new RunFolderError(
        `${latest.message}; the previous checkpoint ${previousFile} (step ${previous.meta.position.globalStep}) is intact: resume from it with ${fromPreviousCommand(dir)} (the metrics after that step are dropped)`,
        PREVIOUS_INTACT,
      );
    }
    throw new RunFolderError(`${latest.message}; no intact earlier checkpoint is kept: restore the file from a backup or start the run again`, 'checkpoint-corrupt');
  }
  if (latest) return latest;
  const previous = await tryRead(previousFile);
  if (previous instanceof RunFolderError) throw new RunFolderError(`${previous.message}; no intact checkpoint is left: start the run again`, 'checkpoint-corrupt');
  return previous;
}
