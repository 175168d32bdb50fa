import { act, cleanup, render, screen } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { useStagedMount } from './use-staged-mount.ts'

// Animation frames run only when the test says so.
let frames = new Map<number, () => void>()
let lastHandle = 0
beforeEach(() => {
  frames = new Map()
  vi.stubGlobal('requestAnimationFrame', (callback: () => void) => {
    frames.set(++lastHandle, callback)
    return lastHandle
  })
  vi.stubGlobal('cancelAnimationFrame', (handle: number) => frames.delete(handle))
})
afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

function nextFrame(): void {
  const due = [...frames.values()]
  frames.clear()
  act(() => {
    for (const callback of due) callback()
  })
}

function Staged({ stages }: { stages: number }) {
  const mounted = useStagedMount(stages)
  return (
    <ol>
      {Array.from({ length: mounted }, (_, index) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: the stages are fixed and in order
        <li key={index}>stage {index + 1}</li>
      ))}
    </ol>
  )
}

describe('useStagedMount', () => {
  it('mounts the first stage at once and one more per animation frame', () => {
    render(<Staged stages={3} />)
    expect(screen.getAllByRole('listitem').map((item) => item.textContent)).toEqual(['stage 1'])
    nextFrame()
    expect(screen.getAllByRole('listitem')).toHaveLength(2)
    nextFrame()
    expect(screen.getAllByRole('listitem')).toHaveLength(3)
    // All mounted: no more frames asked for.
    expect(frames.size).toBe(0)
  })

  it('asks for no frame with one stage, and none after it unmounts', () => {
    const { unmount } = render(<Staged stages={1} />)
    expect(frames.size).toBe(0)
    unmount()
    render(<Staged stages={2} />)
    expect(frames.size).toBe(1)
    cleanup()
    nextFrame()
    expect(screen.queryAllByRole('listitem')).toEqual([])
  })
})
