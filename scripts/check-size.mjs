// The house rule on size: no source file over 400 lines, no function over 80 lines (tests and
// generated files aside). Prints each one over, and exits 1 when there is any.
// Usage: node scripts/check-size.mjs [--tests]   (--tests: test files too)
import { readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { sourceFiles } from './source-files.mjs'

const maxFileLines = 400
const maxFunctionLines = 80
const roots = ['packages', 'apps', 'bench', 'tests', 'scripts']
const withTests = process.argv.includes('--tests')
const root = new URL('..', import.meta.url).pathname

const isTest = (path) => /\.test\.tsx?$|\/tests\//.test(path)

function functionName(node) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text
  if (node.name && ts.isPrivateIdentifier(node.name)) return node.name.text
  if (ts.isConstructorDeclaration(node)) return 'constructor'
  const parent = node.parent
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return parent.name.text
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return parent.name.text
  return '(anonymous)'
}

const over = []
for (const base of roots) {
  let files
  try {
    files = [...sourceFiles(join(root, base), /\.(ts|tsx|mjs)$/)]
  } catch {
    continue
  }
  for (const path of files) {
    const name = relative(root, path)
    if (!withTests && isTest(name)) continue
    const text = readFileSync(path, 'utf8')
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
    if (lines > maxFileLines) over.push(`${name}: ${lines} lines (file)`)
    const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true)
    const visit = (node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line
        const end = source.getLineAndCharacterOfPosition(node.getEnd()).line
        const length = end - start + 1
        // A test's describe/it callback is a list of cases, not one function.
        if (length > maxFunctionLines && !(isTest(name) && !ts.isFunctionDeclaration(node))) {
          over.push(`${name}:${start + 1}: ${functionName(node)} ${length} lines (function)`)
        }
      }
      ts.forEachChild(node, visit)
    }
    visit(source)
  }
}
for (const line of over) console.log(line)
console.log(
  over.length === 0 ? 'size: every file ≤ 400 lines, every function ≤ 80' : `size: ${over.length} over`,
)
process.exit(over.length === 0 ? 0 : 1)
