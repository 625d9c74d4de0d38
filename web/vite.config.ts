/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// The console is plain static files under dist/, served by the edge on the API's port.
// Relative asset URLs ("./assets/...") let the edge serve it under any path prefix.
export default defineConfig({
  base: "./",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    // The entry chunk stays small; heavy pages (evaluation, registry) are split off.
    chunkSizeWarningLimit: 600,
  },
  server: { port: 5173, strictPort: true },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
});
