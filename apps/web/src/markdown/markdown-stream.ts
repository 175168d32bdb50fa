import { MarkdownBlocks } from './markdown-blocks.ts'
import { renderMarkdown } from './markdown-render.ts'

/** What a {@link MarkdownStream} did so far, to check that its work per token stays flat. */
export interface MarkdownWork {
  /** Characters of Markdown handed to the renderer. */
  rendered: number
  /** Render calls. */
  renders: number
}

/**
 * Writes a growing Markdown text into `container`. Each finished block is rendered once and kept
 * as its own element; only the unfinished tail is rendered again when text is added. So the cost
 * of a token depends on the size of the block being written, not on the length of the answer.
 * A text that does not continue the previous one (a retry starts over) is rendered from scratch.
 */
export class MarkdownStream {
  readonly #container: HTMLElement
  readonly #render: (source: string) => string
  readonly #blocks = new MarkdownBlocks()
  #tail: HTMLElement
  #tailSource: string | undefined
  readonly work: MarkdownWork = { rendered: 0, renders: 0 }

  constructor(container: HTMLElement, render: (source: string) => string = renderMarkdown) {
    this.#container = container
    this.#render = render
    this.#tail = this.#newTail()
  }

  update(text: string): void {
    if (text === this.#blocks.text && this.#tailSource !== undefined) return
    if (!this.#blocks.continues(text)) this.#restart()
    for (const block of this.#blocks.append(text)) {
      const element = this.#container.ownerDocument.createElement('div')
      element.className = 'markdown-block'
      element.innerHTML = this.#html(block)
      this.#container.insertBefore(element, this.#tail)
    }
    const tail = this.#blocks.tail
    if (tail !== this.#tailSource) {
      this.#tailSource = tail
      this.#tail.innerHTML = tail.trim() ? this.#html(tail) : ''
    }
  }

  #html(source: string): string {
    this.work.rendered += source.length
    this.work.renders += 1
    return this.#render(source)
  }

  #restart(): void {
    this.#blocks.reset()
    this.#container.replaceChildren()
    this.#tail = this.#newTail()
    this.#tailSource = undefined
  }

  #newTail(): HTMLElement {
    const tail = this.#container.ownerDocument.createElement('div')
    tail.className = 'markdown-block markdown-tail'
    this.#container.append(tail)
    return tail
  }
}
