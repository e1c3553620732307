// The message contract between the UI and the engine: one import for renderer, Electron and web host.
export * from './common';
export * from './models';
export * from './inspect';
export * from './training';
export * from './system';
export * from './api';
export * from './wire';
export * from './envelope';
export * from './frame';
export * from './port';
export * from './errors';
export * from './validate';
export * from './throttle';
export * from './client';
export * from './engine-api';
export * from './run-tracker';
export * from './shell';
