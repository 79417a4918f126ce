/** @type {import('jest').Config} */
const e2eBase = require('./jest.e2e-base.js');

module.exports = {
  // A global option: Jest ignores testTimeout inside `projects`.
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      moduleFileExtensions: ['ts', 'js', 'json'],
      rootDir: '.',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform: e2eBase.transform,
    },
    {
      ...e2eBase,
      displayName: 'e2e',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
    },
  ],
};
