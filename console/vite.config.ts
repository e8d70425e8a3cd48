import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Built by `npm run build:console` (run by `npm install` through `prepare`) into console/dist,
// which Vigil's HTTP server serves at / (src/adapters/http/console.ts).
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [react()],
  // Every page is a chunk (src/app.tsx); the entry is ~310 KB and the largest chunk (recharts'
// shared part) ~390 KB: a chunk past 450 KB is a regression of the first load worth a warning.
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, chunkSizeWarningLimit: 450 },
  server: { proxy: { '/v1': 'http://127.0.0.1:8080', '/health': 'http://127.0.0.1:8080' } },
});
