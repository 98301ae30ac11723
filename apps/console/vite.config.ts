/** Builds the console: React with the provenance API's generated messages imported straight from packages/shared. */
import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** Where the generated protobuf-es code lives; only the *_pb.ts files are imported (no Node-only code). */
export const GEN_DIR = fileURLToPath(new URL("../../packages/shared/src/gen/provenance/v1", import.meta.url));

/** The console's Vite configuration. */
export default defineConfig({
  plugins: [react()],
  resolve: { alias: { "@gen": GEN_DIR } },
  // Bundles go to /static/: /assets/… is the app's own route for asset pages (serve.mjs relies on this name).
  build: { outDir: "dist", assetsDir: "static", emptyOutDir: true, sourcemap: true },
  server: { port: 5173 },
});
