import type { Random } from './random.ts'

const topics = [
  'Rivers',
  'Streams',
  'Tokens',
  'Models',
  'Datasets',
  '東京 notes',
  'Café ☕ ideas',
  'Launch 🚀',
]
const words = [
  'the',
  'river',
  'stream',
  'token',
  'model',
  'data',
  'light',
  'small',
  'answer',
  'über',
  'naïve',
  '東京',
  '✨',
]
const codeLines = [
  'const answer = await model.generate(prompt)',
  "for (const token of stream) write(token, 'utf8')",
  'if (tokens > limit) return { done: true }',
  'let total = 0 // tokens so far',
]

/**
 * A Markdown-shaped answer (`[sim:style=markdown]`): a heading, a paragraph with bold and inline
 * code, a list, a fenced TypeScript block and a table, repeated until `count` tokens, cut into
 * word-sized tokens so a viewer sees it render while it streams.
 */
export function markdownTokens(random: Random, count: number): string[] {
  const tokens: string[] = []
  const phrase = (length: number): void => {
    for (let index = 0; index < length; index++) tokens.push(`${index === 0 ? '' : ' '}${random.pick(words)}`)
  }
  while (tokens.length < count) {
    tokens.push('## ', random.pick(topics), '\n\n')
    phrase(random.between(6, 12))
    tokens.push(' **', random.pick(words), '**', ' and', ' `', random.pick(words), '`')
    phrase(random.between(3, 8))
    tokens.push('.\n\n')
    for (let item = random.between(2, 3); item > 0; item--) {
      tokens.push('- ')
      phrase(random.between(2, 5))
      tokens.push('\n')
    }
    tokens.push('\n```ts\n')
    for (let line = random.between(1, 3); line > 0; line--) {
      for (const part of random.pick(codeLines).split(/(?= )/)) tokens.push(part)
      tokens.push('\n')
    }
    tokens.push('```\n\n', '| token', ' | count |\n', '|---|---|\n')
    for (let row = random.between(1, 3); row > 0; row--)
      tokens.push(`| ${random.pick(words)}`, ` | ${random.between(1, 99)} |\n`)
    tokens.push('\n')
  }
  return tokens.slice(0, count)
}
