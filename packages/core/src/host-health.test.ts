import { describe, expect, it } from 'vitest'
import { HostHealth, type HostState } from './host-health.ts'

function health(answers: boolean[], maxFailures = 3) {
  const changes: HostState[] = []
  let probes = 0
  const tracker = new HostHealth({
    maxFailures,
    probeDelay: { base: 1, max: 4 },
    probe: async () => {
      const answer = answers[probes] ?? true
      probes += 1
      if (!answer) throw new Error('connection refused')
    },
    onChange: (state) => changes.push(state),
  })
  return { tracker, changes, probes: () => probes }
}

async function until(check: () => boolean): Promise<void> {
  for (let tries = 0; tries < 200 && !check(); tries++) await new Promise((resolve) => setTimeout(resolve, 5))
  expect(check()).toBe(true)
}

describe('HostHealth', () => {
  it('takes an unreachable host out at once and puts it back when a probe answers', async () => {
    const { tracker, changes, probes } = health([false, false, true])
    tracker.failed('connection refused', true)
    expect(tracker.state).toBe('down')
    expect(tracker.reason).toBe('connection refused')
    await until(() => tracker.state === 'up')
    expect(probes()).toBe(3)
    expect(changes).toEqual(['down', 'up'])
    tracker.close()
  })

  it('checks a host after a cut stream and keeps it when the probe answers', async () => {
    const { tracker, changes } = health([true])
    tracker.failed('stream ended early', false)
    expect(tracker.state).toBe('checking')
    await until(() => tracker.state === 'up')
    expect(changes).toEqual(['checking', 'up'])
    tracker.close()
  })

  it('takes a host out after maxFailures in a row, not after failures a success separates', () => {
    const { tracker } = health([false, false, false, false], 3)
    tracker.failed('500', false)
    tracker.answered()
    tracker.failed('500', false)
    expect(tracker.state).not.toBe('down')
    tracker.failed('500', false)
    tracker.failed('500', false)
    expect(tracker.state).toBe('down')
    tracker.close()
  })

  it('stops probing once closed', async () => {
    const { tracker, probes } = health([false, false, false, false, false])
    tracker.down('gone')
    tracker.close()
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(probes()).toBe(0)
  })
})
