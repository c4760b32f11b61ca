// The README and action.yml tables are checked for every action in test/unit/actions/readmes.test.ts; this adds
// smoke-check's own rule: a key of a check object is also a step input, so it has a shared default.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { PER_CHECK_INPUTS } from '../../../actions/smoke-check/inputs.js';

const metadata = parse(readFileSync(new URL('../../../actions/smoke-check/action.yml', import.meta.url), 'utf8')) as {
  inputs: Record<string, unknown>;
};

test('every per-check key is a step input too, so it has a shared default', () => {
  for (const key of PER_CHECK_INPUTS.filter((k) => k !== 'name' && k !== 'url'))
    expect(metadata.inputs).toHaveProperty([key]);
});
