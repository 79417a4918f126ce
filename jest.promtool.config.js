/**
 * `npm run test:promtool`: scrapes a running app and checks the exposition with Prometheus's own
 * `promtool check metrics` (Debian package `prometheus`). Kept out of `npm test`, which needs
 * nothing but Node.
 */
/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 60000,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  rootDir: '.',
  testMatch: ['<rootDir>/test/**/*.promtool-spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
