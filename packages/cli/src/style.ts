import type { OutputStream } from './io.ts'

/** ANSI styling that turns into plain text when colour is off. */
export interface Style {
  readonly enabled: boolean
  bold(text: string): string
  dim(text: string): string
  red(text: string): string
  green(text: string): string
  yellow(text: string): string
  cyan(text: string): string
}

const wrap = (enabled: boolean, open: number, close: number) =>
  enabled ? (text: string) => `\x1b[${open}m${text}\x1b[${close}m` : (text: string) => text

export function createStyle(enabled: boolean): Style {
  return {
    enabled,
    bold: wrap(enabled, 1, 22),
    dim: wrap(enabled, 2, 22),
    red: wrap(enabled, 31, 39),
    green: wrap(enabled, 32, 39),
    yellow: wrap(enabled, 33, 39),
    cyan: wrap(enabled, 36, 39),
  }
}

/**
 * Colour on a terminal, never with `NO_COLOR` set (no-color.org), `FORCE_COLOR=0` or `TERM=dumb`;
 * any other `FORCE_COLOR` turns it on off a terminal too (as Node's `util.styleText` reads them).
 */
export function colorEnabled(
  stream: OutputStream,
  env: Readonly<Record<string, string | undefined>>,
): boolean {
  if (env.NO_COLOR) return false
  if (env.FORCE_COLOR === '0' || env.FORCE_COLOR === 'false') return false
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '') return true
  if (env.TERM === 'dumb') return false
  return stream.isTTY === true
}

/** Live redraws (cursor movement) need a real terminal on both stdout and stderr. */
export function liveTerminal(io: {
  stdout: OutputStream
  stderr: OutputStream
  env: Readonly<Record<string, string | undefined>>
}): boolean {
  return io.stdout.isTTY === true && io.stderr.isTTY === true && io.env.TERM !== 'dumb'
}
