/**
 * `npm run test:promtool`: scrapes a running app and checks the exposition with Prometheus's own
 * `promtool check metrics` (Debian package `prometheus`). Kept out of `npm test`, which needs
 * nothing but Node.
 */
/** @type {import('jest').Config} */
const base = require('./jest.e2e-base.js');

module.exports = {
  ...base,
  testTimeout: 60000,
  testMatch: ['<rootDir>/test/**/*.promtool-spec.ts'],
};
