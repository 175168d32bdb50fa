/**
 * Splits a growing Markdown text into finished blocks and one unfinished tail, looking only at the
 * text added since the last call, so the work per token does not grow with the answer's length.
 *
 * A block ends at a blank line outside a code fence, once the next line starts at the margin (an
 * indented line after a blank one continues a list item or an indented code block). Finished blocks
 * never change again; only the tail is re-rendered as tokens arrive. Each block is rendered on its
 * own, so a reference-style link defined in another block does not resolve, and the items of a
 * loose list (blank lines between them) become lists of their own that still number on.
 */
export class MarkdownBlocks {
  #text = ''
  /** Where the unfinished block starts. */
  #blockStart = 0
  /** Where the line not yet ended by a newline starts. */
  #lineStart = 0
  /** The open fence (its character repeated), while inside a fenced code block. */
  #fence: string | undefined
  /** The offset after a blank line that may end the block, once the next line tells. */
  #candidate: number | undefined
  /** Whether the unfinished block holds a line that is not blank. */
  #hasContent = false

  /** The text seen so far. */
  get text(): string {
    return this.#text
  }

  /** The unfinished block: everything after the last finished one. */
  get tail(): string {
    return this.#text.slice(this.#blockStart)
  }

  /** Starts over with an empty text. */
  reset(): void {
    this.#text = ''
    this.#blockStart = 0
    this.#lineStart = 0
    this.#fence = undefined
    this.#candidate = undefined
    this.#hasContent = false
  }

  /** True when `text` is the text seen so far with more added at its end (checked cheaply). */
  continues(text: string): boolean {
    const seen = this.#text
    if (text.length < seen.length) return false
    const probe = Math.max(0, seen.length - 64)
    return text.startsWith(seen.slice(probe), probe)
  }

  /** Takes the text so far (the previous text plus what was added); returns the blocks it finished. */
  append(text: string): string[] {
    this.#text = text
    const finished: string[] = []
    let lineEnd = text.indexOf('\n', this.#lineStart)
    while (lineEnd !== -1) {
      this.#line(this.#lineStart, lineEnd, finished)
      this.#lineStart = lineEnd + 1
      lineEnd = text.indexOf('\n', this.#lineStart)
    }
    // A line still being written already tells whether it starts at the margin.
    if (this.#candidate !== undefined && this.#lineStart < text.length)
      this.#decide(this.#lineStart, finished)
    return finished
  }

  #line(start: number, end: number, finished: string[]): void {
    const text = this.#text
    if (this.#fence !== undefined) {
      if (closesFence(text.slice(start, end), this.#fence)) this.#fence = undefined
      return
    }
    if (isBlank(text, start, end)) {
      if (this.#hasContent) this.#candidate ??= end + 1
      return
    }
    if (this.#candidate !== undefined) this.#decide(start, finished)
    this.#hasContent = true
    const fence = /^ {0,3}(`{3,}|~{3,})/.exec(text.slice(start, Math.min(end, start + 64)))
    if (fence) this.#fence = fence[1]
  }

  /** A non-blank line starts at `start` after a blank one: a margin line ends the block. */
  #decide(start: number, finished: string[]): void {
    const first = this.#text[start]
    if (first === ' ' || first === '\t') {
      this.#candidate = undefined
      return
    }
    finished.push(this.#text.slice(this.#blockStart, this.#candidate))
    this.#blockStart = this.#candidate!
    this.#candidate = undefined
    this.#hasContent = false
  }
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let index = start; index < end; index++) {
    const code = text.charCodeAt(index)
    if (code !== 32 && code !== 9 && code !== 13 && code !== 10) return false
  }
  return true
}

function closesFence(line: string, fence: string): boolean {
  const trimmed = line.trim()
  return (
    line.length - line.trimStart().length <= 3 &&
    trimmed.length >= fence.length &&
    trimmed[0] === fence[0] &&
    /^(`+|~+)$/.test(trimmed)
  )
}
