// Entry of a data-parallel training worker: the TypeScript sources run through tsx, as in the CLI.
import { register } from 'tsx/esm/api';

register();
await import('./data-parallel-worker.ts');
