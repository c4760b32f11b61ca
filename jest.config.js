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
      // Some unit tests run real tools (coverage.py, git, openssl): jest's 5 s default fails them on a loaded machine.
      testTimeout: 60_000,
    },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'], slowTestThreshold: 60 },
  ],
  collectCoverageFrom: ['actions/**/*.ts'],
  coverageProvider: 'v8',
  coverageReporters: ['text-summary', 'lcov', 'cobertura', 'json-summary'],
  coverageDirectory: 'coverage',
};
