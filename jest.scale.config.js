/** @type {import('jest').Config} */
// `npm run test:scale`: several built app instances behind a real nginx (needs /usr/sbin/nginx);
// not part of `npm test`, which stays Node-only.
const base = require('./jest.e2e-base.js');

module.exports = {
  ...base,
  // Each test (and hook) takes well under a minute; a hang fails in 3 minutes, not 10.
  testTimeout: 180000,
  testMatch: ['<rootDir>/test/scale/**/*.scale-spec.ts'],
};
