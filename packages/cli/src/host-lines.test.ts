import type { HostReport } from '@spout/core'
import { describe, expect, it } from 'vitest'
import { hostPanelLines, hostSummaryLines } from './host-lines.ts'
import { createStyle } from './style.ts'

const up: HostReport = {
  host: 'http://gpu-a:11434',
  backend: 'ollama',
  state: 'up',
  slots: 4,
  inFlight: 3,
  records: 120,
  failures: 0,
  tokens: 15230,
  tokensPerSecond: 81.5,
}
const down: HostReport = {
  ...up,
  host: 'http://b:11434',
  state: 'down',
  slots: 2,
  inFlight: 0,
  failures: 3,
  reason: 'connection refused',
  fixed: true,
}

describe('host lines', () => {
  it('shows in flight / slots, tokens/s, records and state, one host a line', () => {
    const lines = hostPanelLines([up, down], 120, createStyle(false))
    expect(lines[0]).toBe('● http://gpu-a:11434  3/4 learned · 81.5 tok/s · 120 done')
    expect(lines[1]).toBe(
      '○ http://b:11434      0/2 slots · 81.5 tok/s · 120 done · 3 failed attempts · down: connection refused',
    )
  })

  it('fits a line to the width', () => {
    for (const line of hostPanelLines([down], 40, createStyle(false)))
      expect(line.length).toBeLessThanOrEqual(40)
  })

  it('sums each host up after the run', () => {
    expect(hostSummaryLines([up, down])).toEqual([
      'spout: host http://gpu-a:11434: 120 records · 4 slots (learned) · 15,230 tokens',
      'spout: host http://b:11434: 120 records · 2 slots (fixed) · 15,230 tokens · 3 failed attempts · down: connection refused',
    ])
  })
})
