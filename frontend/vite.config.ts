import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// `base` lets the same build live under a sub-path (GitHub Pages: /<repo>/).
export default defineConfig({
  base: process.env.HARUCHAT_BASE_PATH || "./",
  plugins: [react()],
  build: { outDir: "dist", sourcemap: true },
  test: {
    environment: "jsdom",
    include: ["src/**/*.test.{ts,tsx}"],
  },
});
