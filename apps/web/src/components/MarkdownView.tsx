import { useLayoutEffect, useRef } from 'react'
import { MarkdownStream } from '../markdown/markdown-stream.ts'

/**
 * A response rendered as Markdown while it streams. React renders the container once; the
 * {@link MarkdownStream} inside writes to it directly, appending finished blocks and redrawing only
 * the unfinished one, so a token costs the same at the start and at the end of a long answer.
 */
export function MarkdownView({ text, className }: { text: string; className: string }) {
  const container = useRef<HTMLDivElement>(null)
  const stream = useRef<MarkdownStream | undefined>(undefined)
  useLayoutEffect(() => {
    const element = container.current
    if (!element) return
    stream.current ??= new MarkdownStream(element)
    stream.current.update(text)
  }, [text])
  return <div ref={container} className={className} data-format="markdown" />
}
