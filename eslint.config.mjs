import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX from 'eslint-plugin-import-x';

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      'models/**',
      '**/*.d.ts',
      '*.js',
      '*.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'error',
      // Dependencies point inward (STYLE.md): stego imports nothing of ours; dicom and segmentation
      // import only stego; nothing but the gateway and CLI import the gateway.
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            { target: './src/stego', from: './src', except: ['./stego'] },
            { target: './src/dicom', from: './src', except: ['./dicom', './stego'] },
            { target: './src/segmentation', from: './src', except: ['./segmentation', './stego'] },
            { target: './src/pipeline', from: ['./src/gateway', './src/cli'] },
          ],
        },
      ],
    },
  },
  { files: ['src/cli/**', 'bench/**', 'scripts/**'], rules: { 'no-console': 'off' } },
);
