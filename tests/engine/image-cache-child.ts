// Child process for the shared image cache test: waits for GO_FILE (so two children start together), then
// opens FOLDER ROUNDS times at a different stored size each round (every round writes new cache entries and
// every open cleans the folder of torn temporaries) under a small budget (so it also evicts), and reads every
// image back. Prints one JSON line: images decoded and found in the cache.
// usage: node --import tsx image-cache-child.ts FOLDER CACHE_DIR READY_FILE GO_FILE ROUNDS
import { existsSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { openFolderDataset } from '../../src-main/engine/data/folder';

const [folder, cacheDir, readyFile, goFile, rounds] = process.argv.slice(2);
writeFileSync(readyFile, '');
while (!existsSync(goFile)) await sleep(5);
let decoded = 0;
let hits = 0;
for (let round = 0; round < Number(rounds); round++) {
  const side = 8 + round;
  const dataset = await openFolderDataset(folder, { inputSize: side, storedSize: side, channels: 3, cacheDir, cacheBudgetBytes: 40 * side * side * 3, concurrency: 4 });
  const all = await dataset.train.read(Int32Array.from({ length: dataset.train.count }, (_, i) => i));
  if (all.images.length !== dataset.train.count * side * side * 3) throw new Error(`round ${round}: ${all.images.length} bytes read`);
  decoded += dataset.cacheStats.decoded;
  hits += dataset.cacheStats.hits;
}
console.log(JSON.stringify({ decoded, hits }));
