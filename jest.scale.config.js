/** @type {import('jest').Config} */
// `npm run test:scale`: several built app instances behind a real nginx (needs /usr/sbin/nginx);
// not part of `npm test`, which stays Node-only.
module.exports = {
  // Each test (and hook) takes well under a minute; a hang fails in 3 minutes, not 10.
  testTimeout: 180000,
  testEnvironment: 'node',
  moduleFileExtensions: ['ts', 'js', 'json'],
  rootDir: '.',
  testMatch: ['<rootDir>/test/scale/**/*.scale-spec.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
};
