// Runs before anything else in `pnpm install`, `pnpm demo`, `pnpm test`, `pnpm build` and `pnpm bench`:
// plain JavaScript that any Node can parse, so an old Node gets one clear line instead of a stack trace.
const required = 22
const major = Number(process.versions.node.split('.')[0])
if (major < required) {
  process.stderr.write(
    `spout: Node.js ${required} or newer is needed (this is v${process.versions.node}); ` +
      'get Node 24 LTS with `npm i -g node@24`, or `nvm install` (the repository has an .nvmrc)\n',
  )
  process.exit(1)
}
