// @actions/workflow-parser imports its workflow schema JSON from ESM without an import attribute, and jest warns about
// that on every run ("importing JSON without an import attribute is deprecated"). jest.config.js maps that one
// import here: the same JSON, read through require, so a green run prints no such line.
import { createRequire } from 'node:module';

export default createRequire(import.meta.url)(
  '../../node_modules/@actions/workflow-parser/dist/workflow-v1.0.min.json',
);
