// Builds the app into dist/ as static files. The transformer profile is the pilot's
// own CSV (scripts/pilot/data), served at /data/transformer.csv in development and
// copied into the build, so it is kept in one place.
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import preact from '@preact/preset-vite';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const PROFILE = fileURLToPath(
  new URL('../scripts/pilot/data/lv-transformer-semiurb5-2016-10-10.csv', import.meta.url),
);
const PROFILE_URL = 'data/transformer.csv';

function transformerProfile(): Plugin {
  return {
    name: 'flexchain-transformer-profile',
    configureServer(server) {
      server.middlewares.use(`/${PROFILE_URL}`, (_req, res) => {
        res.setHeader('content-type', 'text/csv');
        res.end(readFileSync(PROFILE));
      });
    },
    generateBundle() {
      this.emitFile({ type: 'asset', fileName: PROFILE_URL, source: readFileSync(PROFILE) });
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [preact(), transformerProfile()],
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 2000,
    sourcemap: false,
  },
  server: {
    // `npm run dev`: the bridge's read endpoints through the dev server, as
    // scripts/serve.mjs does for the built app (the bridge sends no CORS headers).
    proxy: {
      '/bridge': {
        target: process.env.FLEX_BRIDGE ?? 'http://127.0.0.1:9955',
        rewrite: (p) => p.replace(/^\/bridge/, ''),
      },
    },
  },
  test: {
    include: ['tests/unit/**/*.test.ts'],
    environment: 'node',
  },
});
