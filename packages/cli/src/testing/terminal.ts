// Test helper (not part of the package build): a minimal terminal that applies what the CLI writes
// to a screen, so a test can assert what the user would see, stale lines included.
import { Writable } from 'node:stream'

export interface TestTerminalOptions {
  columns: number
  rows: number
  /**
   * Columns a character takes on this terminal. Default: 2 for CJK, fullwidth forms and emoji
   * (U+2600–U+27BF and U+1F000 up, which terminals draw double wide), 0 for combining marks,
   * zero-width joiners and variation selectors, else 1.
   */
  characterWidth?: (codePoint: number) => number
  /**
   * Draws a ZWJ sequence (👩‍💻), an emoji with its skin tone and a flag as one emoji, as terminals
   * that segment grapheme clusters do: the parts after the first take no column. Default true;
   * false is an older terminal that draws each part.
   */
  joinsEmoji?: boolean
}

/** The cell a wide character covers on its right. */
const rightHalf = '\0'

function defaultWidth(codePoint: number): number {
  if (
    (codePoint >= 0x300 && codePoint <= 0x36f) ||
    codePoint === 0x200d ||
    (codePoint >= 0xfe00 && codePoint <= 0xfe0f)
  ) {
    return 0
  }
  if (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x2600 && codePoint <= 0x27bf) ||
    (codePoint >= 0x2e80 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    codePoint >= 0x1f000
  ) {
    return 2
  }
  return 1
}

/**
 * A fake TTY (`isTTY`, `columns`, `rows`) that interprets the text written to it: printable
 * characters (wide ones take two cells), CR, LF (as a terminal's output with `onlcr`: back to the
 * first column, one row down, scrolling at the bottom), auto-wrap with the pending-wrap state at the
 * right margin, `ESC[?7l` / `ESC[?7h` (auto-wrap off / on), `ESC[nA` (cursor up), `ESC[J`
 * (erase below), `ESC[K` / `ESC[2K` (erase line). Other CSI sequences (colours, cursor visibility)
 * change nothing on screen. Rows that scroll off the top stay in the scrollback.
 */
export class TestTerminal extends Writable {
  readonly isTTY = true
  columns: number
  rows: number
  readonly #characterWidth: (codePoint: number) => number
  readonly #joinsEmoji: boolean
  /** The code point printed last, and whether it opened a flag (a first regional indicator). */
  #previous = 0
  #flagOpen = false
  /** Every row ever drawn, scrollback first; each cell one character ({@link rightHalf} after a wide one). */
  readonly #lines: string[][] = [[]]
  /** Index in #lines of the top visible row. */
  #top = 0
  #row = 0
  #column = 0
  #pendingWrap = false
  #autoWrap = true
  #pending = ''

  constructor(options: TestTerminalOptions) {
    super({ decodeStrings: false })
    this.columns = options.columns
    this.rows = options.rows
    this.#characterWidth = options.characterWidth ?? defaultWidth
    this.#joinsEmoji = options.joinsEmoji ?? true
  }

  override _write(chunk: Buffer | string, _encoding: string, callback: () => void): void {
    this.feed(typeof chunk === 'string' ? chunk : chunk.toString('utf8'))
    callback()
  }

  /** Applies text as if the program had written it. */
  feed(text: string): void {
    const input = this.#pending + text
    this.#pending = ''
    let index = 0
    while (index < input.length) {
      const character = input[index]!
      if (character === '\x1b') {
        const match = /^\x1b\[([?]?)([\d;]*)([A-Za-z])/.exec(input.slice(index))
        if (!match) {
          // An escape sequence cut between two writes: keep it for the next one.
          this.#pending = input.slice(index)
          return
        }
        this.#control(match[1] ?? '', match[2] ?? '', match[3] ?? '')
        index += match[0].length
        continue
      }
      const codePoint = input.codePointAt(index) ?? 0
      const size = codePoint > 0xffff ? 2 : 1
      index += size
      if (character === '\r') {
        this.#column = 0
        this.#pendingWrap = false
      } else if (character === '\n') {
        this.#lineFeed()
      } else if (codePoint >= 0x20 && codePoint !== 0x7f) {
        this.#print(String.fromCodePoint(codePoint), this.#width(codePoint))
      }
    }
  }

  #width(codePoint: number): number {
    const regional = codePoint >= 0x1f1e6 && codePoint <= 0x1f1ff
    const joined =
      this.#joinsEmoji &&
      (this.#previous === 0x200d ||
        (codePoint >= 0x1f3fb && codePoint <= 0x1f3ff) ||
        (regional && this.#flagOpen))
    this.#flagOpen = regional && !this.#flagOpen
    this.#previous = codePoint
    return joined ? 0 : this.#characterWidth(codePoint)
  }

  /** The visible screen, one string per row, trailing blanks trimmed. */
  screen(): string[] {
    const rows: string[] = []
    for (let row = this.#top; row < this.#top + this.rows; row += 1) rows.push(this.#text(row))
    return rows
  }

  /** Scrollback and screen together, up to the last row that holds anything. */
  history(): string[] {
    const rows = this.#lines.map((_, row) => this.#text(row))
    while (rows.length > 0 && rows.at(-1) === '') rows.pop()
    return rows
  }

  /** The most cells any row has held up to its last character (a row as wide as the terminal: `columns`). */
  widestRow(): number {
    return Math.max(0, ...this.#lines.map((line) => line.length))
  }

  #text(row: number): string {
    const cells = this.#lines[row] ?? []
    return Array.from(cells, (cell) => (cell === rightHalf ? '' : (cell ?? ' ')))
      .join('')
      .trimEnd()
  }

  #line(row: number): string[] {
    while (this.#lines.length <= row) this.#lines.push([])
    return this.#lines[row]!
  }

  #lineFeed(): void {
    this.#column = 0
    this.#pendingWrap = false
    this.#row += 1
    this.#line(this.#row)
    if (this.#row >= this.#top + this.rows) this.#top = this.#row - this.rows + 1
  }

  #print(character: string, width: number): void {
    if (width === 0) {
      // Joins the previous cell (a combining mark, a joiner, a variation selector).
      const line = this.#line(this.#row)
      const previous = Math.max(0, this.#column - 1)
      line[previous] = (line[previous] ?? ' ') + character
      return
    }
    if (this.#pendingWrap || this.#column + width > this.columns) {
      if (this.#autoWrap) this.#lineFeed()
      else this.#column = this.columns - width
    }
    this.#pendingWrap = false
    const line = this.#line(this.#row)
    while (line.length < this.#column) line.push(' ')
    line[this.#column] = character
    if (width === 2) line[this.#column + 1] = rightHalf
    this.#column += width
    if (this.#column >= this.columns) {
      // The cursor stays on the last column until the next character decides (pending wrap).
      this.#column = this.columns - 1
      this.#pendingWrap = this.#autoWrap
    }
  }

  /** Erases the cursor's row from `column` to its end. */
  #eraseLine(column: number): void {
    const line = this.#line(this.#row)
    if (line.length > column) line.length = column
  }

  #control(privateMarker: string, parameters: string, command: string): void {
    const count = Math.max(1, Number.parseInt(parameters || '1', 10))
    if (privateMarker === '?') {
      if (parameters === '7') this.#autoWrap = command === 'h'
      return
    }
    switch (command) {
      case 'A':
        this.#row = Math.max(this.#top, this.#row - count)
        this.#pendingWrap = false
        break
      case 'J':
        this.#eraseLine(this.#column)
        this.#lines.length = this.#row + 1
        break
      case 'K':
        this.#eraseLine(parameters === '2' ? 0 : this.#column)
        break
      default:
        break
    }
  }
}
