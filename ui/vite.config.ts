/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import solid from "vite-plugin-solid";

const env = (globalThis as { process?: { env: Record<string, string | undefined> } }).process?.env ?? {};

/**
 * The one proxy event used, typed here: the project has no @types/node, so the proxy's
 * EventEmitter methods are not visible to the type checker.
 */
interface ProxyEvents {
  on(event: "proxyReq", listener: (proxyReq: { getHeader(name: string): unknown; setHeader(name: string, value: string): void }) => void): void;
}

/** The `rowtrail serve` that `npm run dev` proxies /api to. */
const apiTarget = env.ROWTRAIL_API ?? "http://127.0.0.1:7420";

// The built UI is served by `rowtrail serve` (same origin as /api) and loaded by the Tauri
// shell from ui/dist. In development, `npm run dev` proxies /api to a running `rowtrail serve`
// (ROWTRAIL_API, default http://127.0.0.1:7420) or, with `?mock` in the URL, uses mock data.
// `rowtrail serve` refuses a foreign Host or Origin (its DNS-rebinding defence), so the proxy
// presents the target's own: `changeOrigin` rewrites Host, the `proxyReq` hook rewrites Origin
// (the browser sends http://localhost:5173). The token still has to come from serve's address:
// open http://localhost:5173/#token=<token> (see README.md).
export default defineConfig({
  plugins: [solid()],
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": {
        target: apiTarget,
        changeOrigin: true,
        configure: (proxy) => {
          const origin = new URL(apiTarget).origin;
          (proxy as unknown as ProxyEvents).on("proxyReq", (proxyReq) => {
            if (proxyReq.getHeader("origin") !== undefined) proxyReq.setHeader("origin", origin);
          });
        },
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
