// Jest's function count and the gate's disagreed on the same run (705/748 against 683/720): V8 coverage names an
// arrow function after what it is assigned to, so two `setSecret = () => undefined` default parameters in one file
// (actions/shared/database-url.ts) are two LCOV FN records with one name. The real c8 writes such a file here.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readReport } from '../../../actions/coverage-gate/formats/read-report.js';
import { mergeReports, modelTotals } from '../../../actions/coverage-gate/totals.js';
import { c8, removeDir, tempDir } from './tools.js';

const SCRIPT = `
function parseUrl(text, setSecret = () => undefined) { setSecret(text); return text; }
function fromSettings(settings, setSecret = () => undefined) { setSecret(settings); return settings; }
const format = (value) => String(value);
parseUrl('postgres://u:p@h/db');
fromSettings({ name: 'shop' }, (s) => s);
format(1);
`;

test('LCOV functions that share a name count once each, as in the tool’s own totals', async () => {
  const dir = tempDir();
  try {
    writeFileSync(join(dir, 'app.js'), SCRIPT);
    mkdirSync(join(dir, 'reports'));
    c8(dir, 'app.js', join(dir, 'reports'));
    const lcov = readFileSync(join(dir, 'reports', 'lcov.info'), 'utf8');
    expect(lcov.match(/^FN:\d+,setSecret$/gm)).toHaveLength(2);
    const summary = JSON.parse(readFileSync(join(dir, 'reports', 'coverage-summary.json'), 'utf8'));
    const expected = { covered: summary.total.functions.covered, total: summary.total.functions.total };
    // Five functions (the second default is never called: the caller passes its own), plus the module itself.
    expect(expected.total - expected.covered).toBe(1);
    for (const report of ['lcov.info', 'coverage-final.json']) {
      const totals = modelTotals(mergeReports([await readReport(join(dir, 'reports', report))], (p) => p));
      expect({ report, functions: totals.functions }).toEqual({ report, functions: expected });
    }
  } finally {
    removeDir(dir);
  }
});
