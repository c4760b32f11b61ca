// Two projects: fast unit tests over the pure modules, and end-to-end tests that run the built dist/ bundles
// through the runner harness against real local services.
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: 'tsconfig.json' }] },
  testEnvironment: 'node',
};

export default {
  projects: [
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
  ],
  // Tests run real tools and services on a shared 2-core machine: jest's 5 s default failed tests that were only slow
  // (coverage.py, a harness step). A test that needs longer still sets its own. (A global option: ignored per project.)
  testTimeout: 120_000,
  collectCoverageFrom: ['actions/**/*.ts'],
  coverageProvider: 'v8',
  coverageReporters: ['text-summary', 'lcov', 'cobertura', 'json-summary'],
  coverageDirectory: 'coverage',
};
