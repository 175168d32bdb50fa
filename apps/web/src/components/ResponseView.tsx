import { useState } from 'react'
import { MarkdownView } from './MarkdownView.tsx'

/**
 * The response, rendered as Markdown (or the raw text in monospace). A long response sits in a
 * fixed-height box (no layout jumps). While a row watches its record stream, the box is a
 * `column-reverse` flex container: the browser keeps it pinned to the newest text with no script
 * reading layout on every token. A record that was already finished when its row mounted shows
 * from the top.
 */
export function ResponseView({
  text,
  chunks,
  streaming,
  expanded,
  raw,
}: {
  text: string
  /** Chunks in the text (`data-chunks`: the e2e suite times when each token reaches the page). */
  chunks: number
  streaming: boolean
  expanded: boolean
  raw: boolean
}) {
  const [tail, setTail] = useState(streaming)
  if (streaming && !tail) setTail(true)
  return (
    <div
      className={expanded ? 'response-box' : 'response-box response-box--boxed'}
      data-tail={tail ? 'true' : undefined}
      data-chunks={chunks}
      tabIndex={expanded ? undefined : 0}
    >
      {raw ? (
        <pre
          className="output record-response"
          data-format="raw"
          data-streaming={streaming ? 'true' : undefined}
        >
          {text}
          {streaming ? <span className="caret" aria-hidden="true" /> : null}
          {!text && !streaming ? <span className="muted">(empty response)</span> : null}
        </pre>
      ) : (
        <div className="output output--markdown" data-streaming={streaming ? 'true' : undefined}>
          <MarkdownView text={text} className="markdown record-response" />
          {streaming ? <span className="caret" aria-hidden="true" /> : null}
          {!text && !streaming ? <span className="muted">(empty response)</span> : null}
        </div>
      )}
    </div>
  )
}

/** Offered under a long response: shows it whole, or boxes it again. */
export function ExpandResponseButton({
  expanded,
  onToggle,
}: {
  expanded: boolean
  onToggle: (expanded: boolean) => void
}) {
  return (
    <button
      type="button"
      className="button button--small record-expand"
      aria-expanded={expanded}
      onClick={() => onToggle(!expanded)}
    >
      {expanded ? 'Collapse response' : 'Show whole response'}
    </button>
  )
}
