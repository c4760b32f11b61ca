// Two projects: fast unit tests over the pure modules, and end-to-end tests that run the built dist/ bundles
// through the runner harness against real local services.
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    // @actions/workflow-parser's schema imports, through require (test/support/*-schema.mjs say why).
    '^\\.\\./(workflow|action)-v1\\.0\\.min\\.json$': '<rootDir>/test/support/$1-schema.mjs',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testEnvironment: 'node',
};

const projects = [
  {
    ...common,
    displayName: 'unit',
    testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    setupFiles: ['<rootDir>/test/support/runner-stdout.ts'],
  },
  {
    ...common,
    displayName: 'e2e',
    testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
    slowTestThreshold: 60,
  },
];

// `node .ci/jest.mjs unit|e2e` (npm run test:unit / test:e2e) names the project here; plain `jest` runs both.
const only = process.env.RUNBOOK_JEST_PROJECT;

export default {
  projects: only ? projects.filter((p) => p.displayName === only) : projects,
  // Tests run real tools and services on a shared 2-core machine: jest's 5 s default failed tests that were only slow
  // (coverage.py, a harness step). A test that needs longer still sets its own. (A global option: ignored per project.)
  testTimeout: 120_000,
  collectCoverageFrom: ['actions/**/*.ts'],
  coverageProvider: 'v8',
  // No 'text-summary': a green run prints the test list and the closing lines; the numbers are in coverage/ (and the
  // gate's verdict on them is the next step of .ci/run).
  coverageReporters: ['lcov', 'cobertura', 'json-summary'],
  coverageDirectory: 'coverage',
};
