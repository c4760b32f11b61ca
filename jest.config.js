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
    // Jest's 5 s default fails tests that start real services (sshd, PostgreSQL) on a loaded 2-core machine;
    // every wait inside a test is bounded by its own deadline, so these limits only catch a hang.
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'], testTimeout: 60_000 },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/e2e/**/*.test.ts'],
      slowTestThreshold: 60,
      testTimeout: 180_000,
    },
  ],
  collectCoverageFrom: ['actions/**/*.ts'],
  coverageProvider: 'v8',
  coverageReporters: ['text-summary', 'lcov', 'cobertura', 'json-summary'],
  coverageDirectory: 'coverage',
};
