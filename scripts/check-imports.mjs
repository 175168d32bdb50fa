// The house rule on imports: no circle, type-only imports included. Reads every source file of
// packages/*/src and apps/web/src (tests too), follows its relative imports (`import`, `import type`,
// `export … from`, `import('…')`) and the `@spout/*` packages it names, and prints each circle:
// of files within a package, and of packages. Exits 1 when there is any.
// Usage: node scripts/check-imports.mjs
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { sourceFiles } from './source-files.mjs'

const root = new URL('..', import.meta.url).pathname
const packageDirectories = [
  ...readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name)),
  join(root, 'apps', 'web'),
].filter((directory) => existsSync(join(directory, 'package.json')) && existsSync(join(directory, 'src')))

/** Every module specifier the file names: static, type-only, re-exports and literal dynamic imports. */
function specifiers(path) {
  const source = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.Latest, true)
  const found = []
  const visit = (node) => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) found.push(node.moduleSpecifier.text)
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push(node.arguments[0].text)
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
      const literal = node.argument.literal
      if (ts.isStringLiteral(literal)) found.push(literal.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

function resolveRelative(from, specifier) {
  const base = resolve(dirname(from), specifier)
  for (const candidate of [
    base,
    `${base}.ts`,
    `${base}.tsx`,
    join(base, 'index.ts'),
    join(base, 'index.tsx'),
  ]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate
  }
  return undefined
}

/** Tarjan's strongly connected components: each one with more than one node (or a self-edge) is a circle. */
function circles(graph) {
  let index = 0
  const indices = new Map()
  const lowLinks = new Map()
  const stack = []
  const onStack = new Set()
  const found = []
  const connect = (node) => {
    indices.set(node, index)
    lowLinks.set(node, index)
    index += 1
    stack.push(node)
    onStack.add(node)
    for (const next of graph.get(node) ?? []) {
      if (!indices.has(next)) {
        connect(next)
        lowLinks.set(node, Math.min(lowLinks.get(node), lowLinks.get(next)))
      } else if (onStack.has(next)) lowLinks.set(node, Math.min(lowLinks.get(node), indices.get(next)))
    }
    if (lowLinks.get(node) !== indices.get(node)) return
    const component = []
    for (let member = stack.pop(); ; member = stack.pop()) {
      onStack.delete(member)
      component.push(member)
      if (member === node) break
    }
    if (component.length > 1 || graph.get(node)?.has(node)) found.push(component.sort())
  }
  for (const node of graph.keys()) if (!indices.has(node)) connect(node)
  return found
}

const fileGraph = new Map()
const packageGraph = new Map()
const packageNames = new Map(
  packageDirectories.map((directory) => [
    JSON.parse(readFileSync(join(directory, 'package.json'), 'utf8')).name,
    relative(root, directory),
  ]),
)
for (const directory of packageDirectories) {
  const name = relative(root, directory)
  packageGraph.set(name, new Set())
  for (const path of sourceFiles(join(directory, 'src'), /\.(ts|tsx|mts)$/)) {
    const edges = new Set()
    fileGraph.set(path, edges)
    for (const specifier of specifiers(path)) {
      if (specifier.startsWith('.')) {
        const target = resolveRelative(path, specifier)
        if (target) edges.add(target)
        continue
      }
      const packageName = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier
      const target = packageNames.get(packageName)
      if (target && target !== name) packageGraph.get(name).add(target)
    }
  }
}

const report = [
  ...circles(packageGraph).map((members) => `packages: ${members.join(' → ')}`),
  ...circles(fileGraph).map((members) => `files: ${members.map((path) => relative(root, path)).join(' ↔ ')}`),
]
for (const line of report) console.log(line)
console.log(
  report.length === 0
    ? `imports: no circle (${fileGraph.size} files in ${packageGraph.size} packages, type-only imports included)`
    : `imports: ${report.length} circle(s)`,
)
process.exit(report.length === 0 ? 0 : 1)
