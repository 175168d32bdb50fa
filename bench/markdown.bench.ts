// The viewer's Markdown rendering while an answer streams: cost per token at the start and at the
// end of a 20,000-token answer, for the viewer's incremental renderer (finished blocks rendered once,
// only the unfinished block again per token) side by side with re-rendering the whole text per
// token (what Open WebUI did, its issue #23733). markdown-it only: the sanitizer and the DOM are the
// browser's part and see the same blocks. Run: `node bench/run.ts markdown`.
import { performance } from 'node:perf_hooks'
import { MarkdownBlocks } from '../apps/web/src/markdown/markdown-blocks.ts'
import { markdownToHtml } from '../apps/web/src/markdown/markdown-render.ts'
import { answerTokens } from '../apps/web/src/markdown/markdown-sample.ts'

const tokenCount = 20_000
const window = 1_000
/** Tokens of each window the whole-text peer renders (it costs O(length) per token). */
const peerSamples = 100

export interface MarkdownCost {
  renderer: string
  /** Microseconds per token over the first and the last 1,000 tokens. */
  firstMicroseconds: number
  lastMicroseconds: number
  ratio: number
}

function incremental(tokens: string[]): MarkdownCost {
  const blocks = new MarkdownBlocks()
  const costs: number[] = []
  let text = ''
  for (const token of tokens) {
    text += token
    const started = performance.now()
    for (const block of blocks.append(text)) markdownToHtml(block)
    markdownToHtml(blocks.tail)
    costs.push(performance.now() - started)
  }
  return cost('incremental (viewer)', average(costs.slice(0, window)), average(costs.slice(-window)))
}

function wholeText(tokens: string[]): MarkdownCost {
  const texts: string[] = []
  let text = ''
  for (const token of tokens) {
    text += token
    texts.push(text)
  }
  const sample = (from: number) => {
    const costs: number[] = []
    for (let index = 0; index < peerSamples; index++) {
      const source = texts[from + Math.floor((index * window) / peerSamples)]!
      const started = performance.now()
      markdownToHtml(source)
      costs.push(performance.now() - started)
    }
    return average(costs)
  }
  return cost('whole text per token', sample(0), sample(tokens.length - window))
}

const average = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length

function cost(renderer: string, first: number, last: number): MarkdownCost {
  return {
    renderer,
    firstMicroseconds: Number((first * 1000).toFixed(1)),
    lastMicroseconds: Number((last * 1000).toFixed(1)),
    ratio: Number((last / first).toFixed(2)),
  }
}

export async function run(): Promise<MarkdownCost[]> {
  const tokens = answerTokens(tokenCount)
  // Warm the parser up so the first window does not pay for compilation.
  for (let index = 0; index < 3; index++) markdownToHtml(tokens.slice(0, 2_000).join(''))
  const rows = [incremental(tokens), wholeText(tokens)]
  console.log(`\nMarkdown while streaming: ${tokenCount.toLocaleString('en')}-token answer, µs per token`)
  console.log('renderer                 first 1,000   last 1,000   last/first')
  for (const row of rows) {
    console.log(
      `${row.renderer.padEnd(24)} ${String(row.firstMicroseconds).padStart(11)} ${String(row.lastMicroseconds).padStart(12)} ${String(row.ratio).padStart(11)}×`,
    )
  }
  return rows
}
