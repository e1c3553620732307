import type { Reporter, TestModule } from 'vitest/node';

/** Ends the run with one plain 'N passed, N failed, N skipped' line, which any CI reader understands, after the reasons given for skipped tests. */
export default class ClosingLineReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    const skipNotes: string[] = [];
    for (const mod of testModules) {
      for (const test of mod.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else {
          skipped++;
          const note = (test.result() as { note?: string }).note;
          if (note) skipNotes.push(`skipped: ${test.fullName}: ${note}`);
        }
      }
      if (mod.state() === 'failed' && mod.children.size === 0) failed++;
    }
    if (skipNotes.length) process.stdout.write(`\n${skipNotes.join('\n')}\n`);
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
  }
}
