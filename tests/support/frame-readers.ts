// Viewers of a hub in a process of their own: each reads every frame (and counts it) as a browser
// elsewhere would, without charging that work to the process that runs the hub and the batch.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { webSocketBase } from './hub-clients.ts'

const readerScript = `
  const [url, count] = process.argv.slice(-2)
  let frames = 0
  const sockets = Array.from({ length: Number(count) }, () => {
    const socket = new WebSocket(url)
    socket.addEventListener('message', () => { frames += 1 })
    return socket
  })
  Promise.all(sockets.map((socket) => new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve, { once: true })
    socket.addEventListener('error', reject, { once: true })
  }))).then(() => process.send({ open: true }), (error) => process.send({ error: String(error) }))
  process.on('message', (message) => {
    if (message === 'count') process.send({ frames })
    if (message === 'close') { for (const socket of sockets) socket.close(); process.exit(0) }
  })
`

export interface FrameReaders {
  /** Frames read by all of them so far. */
  frames(): Promise<number>
  close(): Promise<void>
}

/** Opens `count` viewers of the hub at `hubUrl` in a child process; resolves once all are open. */
export async function startFrameReaders(hubUrl: string, count: number): Promise<FrameReaders> {
  const child = spawn(process.execPath, ['-e', readerScript, `${webSocketBase(hubUrl)}/ws`, String(count)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [first] = (await once(child, 'message')) as [{ open?: true; error?: string }]
  if (first.error) {
    child.kill()
    throw new Error(`frame readers: ${first.error}`)
  }
  return {
    frames: async () => {
      child.send('count')
      const [reply] = (await once(child, 'message')) as [{ frames: number }]
      return reply.frames
    },
    close: async () => {
      if (child.exitCode !== null) return
      child.send('close')
      await once(child, 'exit')
    },
  }
}
