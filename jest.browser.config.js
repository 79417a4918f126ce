/**
 * `npm run test:browser`: the example frontend in Debian's Chromium (playwright-core, never a
 * downloaded browser), against the real API, PostgreSQL and Better Auth. Kept out of `npm test`
 * so that stays Node-only.
 * @type {import('jest').Config}
 */
module.exports = {
  testTimeout: 120000,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  rootDir: '.',
  testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
