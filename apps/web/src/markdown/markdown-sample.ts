// A long Markdown answer for the flat-cost test and bench/markdown.bench.ts.

/** A long answer: paragraphs, lists and code blocks, cut into word-sized tokens. */
export function answerTokens(count: number): string[] {
  const tokens: string[] = []
  let section = 0
  while (tokens.length < count) {
    section += 1
    tokens.push(`## Part ${section}`, '\n\n')
    for (let word = 0; word < 40; word++)
      tokens.push(word === 0 ? 'The' : ' river', word % 13 === 12 ? ' **bold**' : '')
    tokens.push('.\n\n', '- item', ' one\n', '- item', ' two\n\n', '```ts\n')
    for (let line = 0; line < 6; line++) tokens.push('const', ` x${line}`, ' =', ` ${line}`, '\n')
    tokens.push('```\n\n')
  }
  return tokens.slice(0, count)
}
