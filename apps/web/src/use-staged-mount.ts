import { useEffect, useState } from 'react'

/**
 * How many of a view's `stages` are mounted: the first with the view, then one more per animation
 * frame. A view that mounts in one commit lays out, styles and paints all of it in one frame, and
 * that frame's task grows with every panel in it; staged, the part a person watches comes first
 * (a job's header and records), the panels after it, each in a frame of its own.
 *
 * Each stage is asked for in an animation frame and rendered in the task React schedules after it,
 * so the frame that draws the previous stage is not made longer by the next one.
 */
export function useStagedMount(stages: number): number {
  const [mounted, setMounted] = useState(1)
  useEffect(() => {
    if (mounted >= stages) return
    const frame = requestAnimationFrame(() => setMounted((count) => count + 1))
    return () => cancelAnimationFrame(frame)
  }, [mounted, stages])
  return Math.min(mounted, stages)
}
