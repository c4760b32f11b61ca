import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import type { InputSource } from '../../../actions/shared/inputs.js';

const metadata = parse(readFileSync(new URL('../../../actions/smoke-check/action.yml', import.meta.url), 'utf8')) as {
  inputs: Record<string, { default?: string }>;
};

/** Inputs as the runner gives them: action.yml defaults, overridden by what the step sets. */
export function actionInputs(values: Record<string, string>): InputSource {
  return (name) => (values[name] ?? metadata.inputs[name]?.default ?? '').trim();
}

export const inputNames = Object.keys(metadata.inputs);
