import { describe, expect, it } from 'vitest'
import { MarkdownBlocks } from './markdown-blocks.ts'

/** Feeds `text` in pieces of the given sizes (cycled); returns the finished blocks and the tail. */
function split(text: string, sizes: number[]): { blocks: string[]; tail: string } {
  const blocks = new MarkdownBlocks()
  const finished: string[] = []
  let position = 0
  let step = 0
  while (position < text.length) {
    position = Math.min(text.length, position + sizes[step++ % sizes.length]!)
    finished.push(...blocks.append(text.slice(0, position)))
  }
  return { blocks: finished, tail: blocks.tail }
}

const sample = [
  '# Title',
  '',
  'A paragraph that',
  'runs on two lines.',
  '',
  '- one',
  '- two',
  '',
  '  still item two',
  '',
  '```python',
  'def f():',
  '',
  '    return 1',
  '```',
  '',
  '| a | b |',
  '|---|---|',
  '| 1 | 2 |',
  '',
  'The end',
].join('\n')

describe('MarkdownBlocks', () => {
  it('ends blocks at blank lines outside fences, keeping indented continuations', () => {
    const { blocks, tail } = split(sample, [sample.length])
    expect(blocks).toEqual([
      '# Title\n\n',
      'A paragraph that\nruns on two lines.\n\n',
      '- one\n- two\n\n  still item two\n\n',
      '```python\ndef f():\n\n    return 1\n```\n\n',
      '| a | b |\n|---|---|\n| 1 | 2 |\n\n',
    ])
    expect(tail).toBe('The end')
  })

  it('finds the same blocks however the text is cut into tokens', () => {
    const whole = split(sample, [sample.length])
    for (const sizes of [[1], [2], [3, 1], [7], [1, 5, 2]]) {
      expect(split(sample, sizes)).toEqual(whole)
    }
  })

  it('keeps an unclosed fence in the tail', () => {
    const text = 'Intro\n\n```js\nconst a = 1\n\nconst b = 2\n'
    const { blocks, tail } = split(text, [1])
    expect(blocks).toEqual(['Intro\n\n'])
    expect(tail).toBe('```js\nconst a = 1\n\nconst b = 2\n')
  })

  it('tells a continued text from one that starts over', () => {
    const blocks = new MarkdownBlocks()
    blocks.append('Hello there')
    expect(blocks.continues('Hello there, friend')).toBe(true)
    expect(blocks.continues('Hello')).toBe(false)
    expect(blocks.continues('Howdy there, friend')).toBe(false)
  })
})
