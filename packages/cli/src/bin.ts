#!/usr/bin/env node
import { processIo } from './io.ts'
import { main } from './program.ts'

const io = processIo()
const exitCode = await main(process.argv.slice(2), io)
// Let stdout drain (a pipe may still hold the dataset's last lines), then exit: open handles
// (keep-alive sockets, stdin) must not keep a finished command alive.
process.stdout.write('', () => {
  process.stderr.write('', () => process.exit(exitCode))
})
