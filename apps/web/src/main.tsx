import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { resolveHubAddress } from './hub-address.ts'
import { connectHub } from './hub-connection.ts'
import { warmMarkdown } from './markdown/markdown-render.ts'
import { ViewerContext } from './use-viewer.ts'
import { ViewerStore } from './viewer-store.ts'
import './styles.css'
import './markdown/markdown.css'

const store = new ViewerStore()
const address = resolveHubAddress(new URL(window.location.href), import.meta.env.VITE_SPOUT_HUB)
const connection = connectHub({ store, address })

/**
 * Lays out a line of each font stack (Latin, CJK, emoji; sans and mono) once, hidden, so that their
 * fonts are found and loaded before a job's first render lays out the job view with them.
 */
function warmFonts(): void {
  const sample = document.createElement('div')
  sample.setAttribute('aria-hidden', 'true')
  sample.style.cssText = 'position: absolute; top: 0; left: 0; visibility: hidden; pointer-events: none'
  for (const font of ['var(--sans)', 'var(--mono)']) {
    const line = document.createElement('p')
    line.style.fontFamily = font
    line.textContent = 'Spout 0123 東京 Café über ✨ 🚀'
    sample.append(line)
  }
  document.body.append(sample)
  requestAnimationFrame(() => requestAnimationFrame(() => sample.remove()))
}

// While the page waits for a job: set up the Markdown renderer and load the plots' code, so the
// first tokens of a job do not pay for them.
const whenIdle = (task: () => void): void => {
  if (typeof requestIdleCallback === 'function') requestIdleCallback(() => task(), { timeout: 2000 })
  else setTimeout(task, 500)
}
whenIdle(warmMarkdown)
whenIdle(warmFonts)
whenIdle(() => void import('./charts/job-charts.ts'))

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ViewerContext value={{ store, connection }}>
      <App />
    </ViewerContext>
  </StrictMode>,
)
