// Learning-rate schedules. 'plateau' is the AlexNet paper's: divide the rate by 10 when the held-out error
// stops improving, at most 3 times. The state is plain data, saved in every checkpoint.

export type ScheduleConfig =
  | { kind: 'constant' }
  | {
      kind: 'plateau';
      /** The rate is divided by this (paper: 10). */
      factor: number;
      /** At most this many divisions (paper: 3). */
      maxDrops: number;
      /** Epochs without improvement before a division. */
      patience: number;
      /** An error must fall by more than this to count as an improvement. */
      minDelta: number;
    };

export const PAPER_PLATEAU: ScheduleConfig = { kind: 'plateau', factor: 10, maxDrops: 3, patience: 1, minDelta: 0 };

export interface ScheduleState {
  lr: number;
  /** Lowest held-out error seen so far (null before the first evaluation). */
  bestError: number | null;
  epochsWithoutImprovement: number;
  drops: number;
}

export function initialSchedule(lr: number): ScheduleState {
  return { lr, bestError: null, epochsWithoutImprovement: 0, drops: 0 };
}

/** The schedule after an epoch whose held-out error was `error` (pure). */
export function afterEpoch(config: ScheduleConfig, state: ScheduleState, error: number): ScheduleState {
  if (config.kind === 'constant') return state;
  if (state.bestError === null || error < state.bestError - config.minDelta) {
    return { ...state, bestError: error, epochsWithoutImprovement: 0 };
  }
  const stalled = state.epochsWithoutImprovement + 1;
  if (stalled >= config.patience && state.drops < config.maxDrops) {
    return { ...state, lr: state.lr / config.factor, epochsWithoutImprovement: 0, drops: state.drops + 1 };
  }
  return { ...state, epochsWithoutImprovement: stalled };
}
