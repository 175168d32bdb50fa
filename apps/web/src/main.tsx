import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { App } from './App.tsx'
import { resolveHubAddress } from './hub-address.ts'
import { connectHub } from './hub-connection.ts'
import { ViewerContext } from './use-viewer.ts'
import { ViewerStore } from './viewer-store.ts'
import './styles.css'
import './markdown/markdown.css'

const store = new ViewerStore()
const address = resolveHubAddress(new URL(window.location.href), import.meta.env.VITE_SPOUT_HUB)
const connection = connectHub({ store, address })

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ViewerContext value={{ store, connection }}>
      <App />
    </ViewerContext>
  </StrictMode>,
)
