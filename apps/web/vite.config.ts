import { env } from 'node:process'
import react from '@vitejs/plugin-react'
import { defineConfig } from 'vitest/config'

/** The hub `vite dev` forwards `/ws` to (so the page's same-origin default reaches it). */
const devHub = env.SPOUT_HUB ?? 'http://127.0.0.1:4317'

export default defineConfig({
  plugins: [react()],
  resolve: { conditions: ['@spout/source', 'module', 'browser', 'development|production'] },
  build: { outDir: 'dist', emptyOutDir: true },
  server: { proxy: { '/ws': { target: devHub.replace(/^ws/, 'http'), ws: true } } },
  test: { name: 'web', environment: 'jsdom', include: ['src/**/*.test.{ts,tsx}'] },
})
