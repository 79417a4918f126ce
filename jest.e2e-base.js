/**
 * What every suite that talks to a real PostgreSQL shares: ts-jest, and the global setup that
 * starts (or reaches) the test database. `npm test`'s e2e project and the suites that need a
 * Debian package (test:browser, test:promtool, test:scale) spread it and add their own files.
 * @type {import('jest').Config}
 */
module.exports = {
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  rootDir: '.',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
