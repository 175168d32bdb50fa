/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The hub to connect to during `vite dev`, e.g. `ws://127.0.0.1:4317`. */
  readonly VITE_SPOUT_HUB?: string
}
