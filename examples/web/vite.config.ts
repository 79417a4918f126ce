import { defineConfig } from 'vite';

// React's automatic JSX runtime is Vite's default for .tsx; no plugin is needed to build.
export default defineConfig({
  server: { host: 'localhost', port: 5173, strictPort: true },
  build: { outDir: 'dist', emptyOutDir: true },
});
