import { defaultClientConditions, defineConfig } from 'vite';

// As apps/web: the workspace packages from their TypeScript sources ("development"), and
// "browser" so @tessera/tensor takes navigator.gpu and no Node built-in reaches the page.
export default defineConfig({
  resolve: { conditions: ['development', ...defaultClientConditions] },
  // keepNames: the epoch table's metric column is named after `errorRate`.
  build: { target: 'es2022', rolldownOptions: { output: { keepNames: true } } },
});
