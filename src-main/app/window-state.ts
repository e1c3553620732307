// The window's size, position and maximised state, remembered in userData/window-state.json. A saved
// position that is on no display any more (a monitor unplugged) is dropped, keeping the size.
import path from 'node:path';
import * as v from 'valibot';
import { readJsonFile, writeJsonFile } from './json-file';

const Size = v.pipe(v.number(), v.integer(), v.minValue(200), v.maxValue(20_000));
const Coordinate = v.pipe(v.number(), v.integer(), v.minValue(-100_000), v.maxValue(100_000));

export const WindowStateSchema = v.object({
  width: Size,
  height: Size,
  x: v.optional(Coordinate),
  y: v.optional(Coordinate),
  maximized: v.boolean(),
});
export type WindowState = v.InferOutput<typeof WindowStateSchema>;

export const DEFAULT_WINDOW_STATE: WindowState = { width: 1280, height: 820, maximized: false };
export const WINDOW_STATE_FILE = 'window-state.json';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function loadWindowState(userData: string, displays: readonly Rect[]): WindowState {
  const state = readJsonFile(path.join(userData, WINDOW_STATE_FILE), WindowStateSchema, DEFAULT_WINDOW_STATE);
  if (state.x === undefined || state.y === undefined) return state;
  const { x, y } = state;
  // At least the title bar's first 100 x 40 pixels must be on a display.
  const visible = displays.some((d) => x + 100 > d.x && x < d.x + d.width && y + 40 > d.y && y < d.y + d.height);
  return visible ? state : { width: state.width, height: state.height, maximized: state.maximized };
}

export function saveWindowState(userData: string, state: WindowState): void {
  writeJsonFile(path.join(userData, WINDOW_STATE_FILE), state);
}
