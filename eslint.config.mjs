// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * Import boundaries between the folders of src/. Each feature folder is a Nest module that other
 * folders may use only through its public surface: its module, its `decorators/`, and the files
 * listed here (the types and providers its module exports). Everything else in a folder is its
 * own business, so a team can change it without breaking another feature. `common/` and
 * `config/` are the shared base every folder builds on: they import no feature, so adding or
 * removing a feature never edits them. `metrics/` is infrastructure too: every folder, the base
 * included, may use its module and service. Auth sits below the data features: it imports
 * neither the database nor todos, so authentication can never depend on them. The composition
 * root (main.ts, app.module.ts, app.setup.ts) wires everything and is not restricted.
 */
const PUBLIC_FILES = {
  auth: ['authenticated-user', 'jwks/jwks-key-store'],
  database: ['sql-client', 'database.errors'],
  todos: ['todo.entity'],
  'rate-limit': ['failed-auth-limiter'],
  metrics: ['metrics.service'],
  health: [],
  profile: [],
  admin: [],
  organization: [],
};
const FEATURES = Object.keys(PUBLIC_FILES);
const BASE = ['common', 'config'];
/** Folders that may not import these features at all, not even their public surface. */
const FORBIDDEN = {
  common: FEATURES.filter((feature) => feature !== 'metrics'),
  config: FEATURES.filter((feature) => feature !== 'metrics'),
  metrics: FEATURES.filter((feature) => feature !== 'metrics'),
  auth: ['database', 'todos'],
};

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One `no-restricted-imports` block per folder (a later block would replace an earlier one's). */
const boundaries = [...BASE, ...FEATURES].map((folder) => {
  const patterns = FEATURES.filter((feature) => feature !== folder).map((feature) => {
    // Relative imports only: `../<feature>/…` from the folder or any depth below it.
    const target = `^(\\.\\./)+${escape(feature)}/`;
    if (FORBIDDEN[folder]?.includes(feature)) {
      return {
        regex: target,
        message: `src/${folder} must not import src/${feature} (see the boundaries in eslint.config.mjs).`,
      };
    }
    const allowed = [
      `${feature}\\.module$`,
      'decorators/',
      ...PUBLIC_FILES[feature].map((file) => `${escape(file)}$`),
    ];
    return {
      regex: `${target}(?!${allowed.join('|')})`,
      message: `Import src/${feature} only through its public surface (its module, decorators/ and the files listed in eslint.config.mjs).`,
    };
  });
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: { 'no-restricted-imports': ['error', { patterns }] },
  };
});

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      'coverage/**',
      '.data/**',
      'node_modules/**',
      'eslint.config.mjs',
      'jest.*.js',
      'jest.config.js',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'off',
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['**/*.spec.ts', '**/*.e2e-spec.ts', 'test/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/unbound-method': 'off',
      'no-console': 'off',
    },
  },
  ...boundaries,
);
