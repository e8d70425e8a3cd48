import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import vigil from './tools/eslint/layers.js';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'vigil-data/**', 'web/dist/**', 'test-artifacts/**', 'console/dist/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { vigil },
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: {
      'vigil/layers': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.js'],
    rules: { '@typescript-eslint/consistent-type-imports': 'off' },
  },
);
