/**
 * `npm run test:browser`: the example frontend in Debian's Chromium (playwright-core, never a
 * downloaded browser), against the real API, PostgreSQL and Better Auth. Kept out of `npm test`
 * so that stays Node-only.
 * @type {import('jest').Config}
 */
const base = require('./jest.e2e-base.js');

module.exports = {
  ...base,
  testTimeout: 120000,
  testMatch: ['<rootDir>/test/browser/**/*.browser-spec.ts'],
};
