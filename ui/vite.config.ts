/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};

// The built UI is served by `rowtrail serve` (same origin as /api) and loaded by the Tauri
// shell from ui/dist. In development, `npm run dev` proxies /api to a running `rowtrail serve`
// (ROWTRAIL_API, default http://127.0.0.1:7420) or, with `?mock` in the URL, uses mock data.
export default defineConfig({
  plugins: [solid()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": {
        target: env.ROWTRAIL_API ?? "http://127.0.0.1:7420",
        changeOrigin: true,
      },
    },
  },
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: false,
    reportCompressedSize: true,
  },
  test: {
    environment: "jsdom",
    include: ["test/**/*.test.{ts,tsx}"],
    globals: false,
  },
});
