#!/usr/bin/env node
// Prints "N passed, N failed" from vitest's JSON report as the last line (CI reads that line as
// it is), after a line "N skipped" when any test was skipped. Exits 1 when the report is missing
// (the suite never ran) or counts no test at all.
import { existsSync, readFileSync } from 'node:fs';

const file = process.argv[2] ?? 'reports/vitest.json';
if (!existsSync(file)) {
  console.log('vitest did not write a report (the build or the test run failed before tests ran)');
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const report = JSON.parse(readFileSync(file, 'utf8'));
const passed = report.numPassedTests ?? 0;
const failed = (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0) + (report.numFailedTestSuites && !report.numFailedTests ? report.numFailedTestSuites : 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
if (skipped) console.log(`${skipped} skipped (a conformance test a tier has nothing for, or a service test outside CI)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(passed + failed === 0 ? 1 : 0);
