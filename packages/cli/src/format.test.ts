import { describe, expect, it } from 'vitest'
import {
  displayWidth,
  fitLine,
  formatBytes,
  formatDuration,
  formatRelativeTime,
  formatTable,
} from './format.ts'

describe('formats', () => {
  it('prints sizes and durations the way ollama does', () => {
    expect(formatBytes(2_019_393_189)).toBe('2.0 GB')
    expect(formatBytes(274_302_450)).toBe('274 MB')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatDuration(850)).toBe('850ms')
    expect(formatDuration(12_400)).toBe('12s')
    expect(formatDuration(185_000)).toBe('3m 05s')
    expect(formatDuration(3_720_000)).toBe('1h 02m')
    expect(formatRelativeTime('2026-01-01T00:00:00Z', Date.parse('2026-01-04T00:00:00Z'))).toBe('3 days ago')
    expect(formatRelativeTime('2026-01-01T00:04:00Z', Date.parse('2026-01-01T00:00:00Z'))).toBe(
      'in 4 minutes',
    )
  })

  it('aligns table columns by display width', () => {
    expect(
      formatTable(
        ['NAME', 'SIZE'],
        [
          ['東京:latest', '1 GB'],
          ['a', '22 MB'],
        ],
      ),
    ).toBe('NAME           SIZE\n東京:latest    1 GB\na              22 MB\n')
  })

  it('fits a line to the terminal, keeping the newest text and counting wide characters twice', () => {
    expect(displayWidth('ab東京')).toBe(6)
    // Emoji are drawn double wide, BMP ones (✨ ⚡) included, and symbols asking for the emoji form.
    expect(displayWidth('✨⚡👩')).toBe(6)
    expect(displayWidth('❤️')).toBeGreaterThanOrEqual(2)
    expect(displayWidth('e\u0301')).toBe(1)
    expect(fitLine('one\ntwo\tthree', 40)).toBe('one two three')
    expect(fitLine('abcdefghij', 5, 'end')).toBe('…ghij')
    expect(fitLine('abcdefghij', 5)).toBe('abcd…')
    const fitted = fitLine('東京東京東京', 7, 'end')
    expect(displayWidth(fitted)).toBeLessThanOrEqual(7)
    expect(fitLine('\x1b[31mred', 10)).toBe('[31mred')
  })

  it.each([
    ['ascii', 'abc', 3],
    ['CJK ideographs', '東京', 4],
    ['hangul syllables', '한국어', 6],
    ['fullwidth forms', 'ＡＢ', 4],
    ['halfwidth katakana', 'ｶﾀ', 2],
    ['combining acute accent', 'e\u0301', 1],
    ['stacked combining marks', 'a\u0301\u0323\u0308', 1],
    ['zero-width joiner alone', 'a\u200db', 2],
    ['zero-width space', 'a\u200bb', 2],
    ['emoji', '👩', 2],
    ['ZWJ family: one emoji', '👩\u200d👩\u200d👧\u200d👦', 2],
    ['ZWJ profession with skin tone', '🧑🏽\u200d💻', 2],
    ['flag: two regional indicators', '🇫🇷', 2],
    ['keycap', '1\ufe0f\u20e3', 2],
    ['BMP emoji', '✨⚡', 4],
    ['text symbol asking for emoji form (VS16)', '❤\ufe0f', 2],
    ['mixed line', 'id 東京 👩\u200d💻 ok', 13],
  ])('counts %s as the terminal draws it', (_name, text, columns) => {
    expect(displayWidth(text)).toBe(columns)
  })

  it('cuts between grapheme clusters, never inside an emoji or an accented letter', () => {
    const family = '👩\u200d👩\u200d👧'
    expect(fitLine(`${family}${family}${family}`, 5)).toBe(`${family}${family}…`)
    expect(fitLine(`${family}${family}${family}`, 5, 'end')).toBe(`…${family}${family}`)
    expect(fitLine('e\u0301e\u0301e\u0301e\u0301', 3)).toBe('e\u0301e\u0301…')
    expect(fitLine('abc🇫🇷🇫🇷', 5, 'end')).toBe('…🇫🇷🇫🇷')
    for (const width of [3, 4, 5, 6, 7, 8]) {
      const line = fitLine(`x${family}東京${family}é`.repeat(3), width, 'end')
      expect(displayWidth(line), `width ${width}`).toBeLessThanOrEqual(width)
    }
  })
})
