import preact from '@preact/preset-vite';
import { defineConfig } from 'vite';

/**
 * The dashboard: web/ built into dist/web, which the service serves at / and /assets/*
 * (src/adapters/http/dashboard.ts). Everything it needs is in the build: no CDN, no web fonts.
 */
export default defineConfig({
  root: 'web',
  base: '/',
  plugins: [preact()],
  build: {
    outDir: '../dist/web',
    emptyOutDir: true,
    assetsDir: 'assets',
    // Nothing inlined as a data: URL: the page's CSP allows images and styles from the service only.
    assetsInlineLimit: 0,
    // One entry, one chunk: no module-preload helper needed.
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
