// The package root and resources/ are found from source and from a bundle's location alike.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { appVersion, findPackageRoot, packageRoot, resourcesDir } from '../../src-main/engine/paths';

const repo = path.resolve(import.meta.dirname, '../..');

describe('paths', () => {
  it('finds this repository from source, with its version and resources', () => {
    expect(packageRoot()).toBe(repo);
    expect(appVersion()).toBe(JSON.parse(readFileSync(path.join(repo, 'package.json'), 'utf8')).version);
    expect(existsSync(path.join(resourcesDir({}), 'imagenet', 'synset_words.txt'))).toBe(true);
  });

  it("finds the root from a bundle's folder (out/main), skipping other packages' package.json", () => {
    const app = mkdtempSync(path.join(tmpdir(), 'convscope-paths-'));
    writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'convscope', version: '9.9.9' }));
    mkdirSync(path.join(app, 'out', 'main'), { recursive: true });
    writeFileSync(path.join(app, 'out', 'package.json'), JSON.stringify({ name: 'something-else' }));
    expect(findPackageRoot(path.join(app, 'out', 'main'))).toBe(app);
    expect(() => findPackageRoot(tmpdir())).toThrow(/no convscope package\.json above/);
  });

  it('CONVSCOPE_RESOURCES wins (a packaged app keeps resources/ outside its asar archive)', () => {
    expect(resourcesDir({ CONVSCOPE_RESOURCES: '/opt/ConvScope/resources' })).toBe('/opt/ConvScope/resources');
  });
});
