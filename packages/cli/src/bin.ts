#!/usr/bin/env node
// No static imports: an old Node must reach this check before it loads a module it cannot link.
const required = 22
if (Number(process.versions.node.split('.')[0]) < required) {
  process.stderr.write(
    `spout: Node.js ${required} or newer is needed (this is v${process.versions.node}); ` +
      'get Node 24 LTS with `npm i -g node@24` or nvm (`nvm install 24`)\n',
  )
  process.exit(1)
}
await import('./bin-main.ts')

export {}
