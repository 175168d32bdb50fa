/**
 * Markdown to safe HTML: markdown-it with raw HTML off (HTML in the text shows as text), images
 * shown as links (never loaded), code highlighted by highlight.js, and the result sanitized by
 * DOMPurify, which also makes every link open in a new tab with `rel="noopener noreferrer"`.
 */
import DOMPurify from 'dompurify'
import hljs from 'highlight.js/lib/core'
import bash from 'highlight.js/lib/languages/bash'
import c from 'highlight.js/lib/languages/c'
import cpp from 'highlight.js/lib/languages/cpp'
import css from 'highlight.js/lib/languages/css'
import go from 'highlight.js/lib/languages/go'
import java from 'highlight.js/lib/languages/java'
import javascript from 'highlight.js/lib/languages/javascript'
import json from 'highlight.js/lib/languages/json'
import markdown from 'highlight.js/lib/languages/markdown'
import python from 'highlight.js/lib/languages/python'
import rust from 'highlight.js/lib/languages/rust'
import sql from 'highlight.js/lib/languages/sql'
import typescript from 'highlight.js/lib/languages/typescript'
import xml from 'highlight.js/lib/languages/xml'
import yaml from 'highlight.js/lib/languages/yaml'
import MarkdownIt from 'markdown-it'

const languages = {
  bash,
  c,
  cpp,
  css,
  go,
  java,
  javascript,
  json,
  markdown,
  python,
  rust,
  sql,
  typescript,
  xml,
  yaml,
}
for (const [name, language] of Object.entries(languages)) hljs.registerLanguage(name, language)
hljs.registerAliases(['sh', 'shell', 'zsh'], { languageName: 'bash' })
hljs.registerAliases(['html', 'svg'], { languageName: 'xml' })

function highlight(code: string, language: string): string {
  const name = language.trim().toLowerCase()
  if (!name || !hljs.getLanguage(name)) return '' // markdown-it escapes it
  try {
    return hljs.highlight(code, { language: name, ignoreIllegals: true }).value
  } catch {
    return ''
  }
}

const parser = new MarkdownIt({ html: false, linkify: true, typographer: false, highlight })

// An image in an answer is shown as a link to it, never loaded: a page that fetched every image URL
// a model wrote would let a prompt-injected answer send data to any server (markdown image
// exfiltration), and would track who watches the batch.
parser.renderer.rules.image = (tokens, index) => {
  const token = tokens[index]!
  const source = String(token.attrGet('src') ?? '')
  const label = parser.utils.escapeHtml(token.content || source)
  return `<a class="markdown-image" href="${parser.utils.escapeHtml(source)}">image: ${label}</a>`
}

let purifier: ReturnType<typeof DOMPurify> | undefined

function sanitizer(): ReturnType<typeof DOMPurify> {
  if (purifier) return purifier
  purifier = DOMPurify(window)
  // Set once: a config passed to every `sanitize` call is parsed again on every call (per token).
  purifier.setConfig({ ADD_ATTR: ['target'] })
  purifier.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A' && node.hasAttribute('href')) {
      node.setAttribute('target', '_blank')
      node.setAttribute('rel', 'noopener noreferrer')
    }
  })
  return purifier
}

/** Markdown to HTML, not yet sanitized (raw HTML in the source is already escaped). */
export function markdownToHtml(source: string): string {
  return parser.render(source)
}

/**
 * Tags markdown-it writes without attributes. HTML made of these and text only (markdown-it escapes
 * `<` in text) has no attribute, so no URL and no handler, and no element that runs or loads
 * anything: it is safe as it is.
 */
const plainTag =
  /<\/?(?:p|em|strong|s|code|pre|h[1-6]|ul|ol|li|blockquote|table|thead|tbody|tr|th|td|br|hr)>/g

/** HTML that needs no sanitizing: nothing but the tags above and text. */
export function isPlainHtml(html: string): boolean {
  return !html.replace(plainTag, '').includes('<')
}

/**
 * Safe HTML for a piece of Markdown (a whole text or one block of it). Plain prose, lists and
 * emphasis (most of what a stream re-renders per token) skip DOMPurify, which builds a document
 * per call; anything with an attribute (links, code languages, aligned cells) goes through it.
 */
export function renderMarkdown(source: string): string {
  const html = parser.render(source)
  return isPlainHtml(html) ? html : sanitizer().sanitize(html)
}

/**
 * Sets up markdown-it, DOMPurify and highlight.js's TypeScript ahead of the first answer (the page
 * calls it when idle), so the first tokens of a job do not pay for it.
 */
export function warmMarkdown(): void {
  renderMarkdown(
    '## a\n\n- *b* `c` [d](https://example.com)\n\n| e |\n|---|\n| f |\n\n```ts\nconst g = 1\n```\n',
  )
}
