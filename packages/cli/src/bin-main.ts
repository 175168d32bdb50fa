// The `spout` command once bin.ts has checked the Node version.
import { exitCodes } from './cli-error.ts'
import { processIo } from './io.ts'
import { main } from './program.ts'

// A reader that stops early (`spout gen … | head -3`): end quietly, as a Unix tool killed by SIGPIPE would.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(exitCodes.brokenPipe)
  throw error
})

const io = processIo()
const exitCode = await main(process.argv.slice(2), io)
// Let stdout drain (a pipe may still hold the dataset's last lines), then exit: open handles
// (keep-alive sockets, stdin) must not keep a finished command alive.
process.stdout.write('', () => {
  process.stderr.write('', () => process.exit(exitCode))
})
