import type { JobState, RecordState } from '@spout/core/events'
import { getRecord } from '@spout/core/events'
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react'
import type { HubConnection } from './hub-connection.ts'
import type { ViewerSnapshot, ViewerStore } from './viewer-store.ts'

export interface Viewer {
  store: ViewerStore
  /** Absent when the page has no live connection (tests, or a store filled by hand). */
  connection?: Pick<HubConnection, 'reconnectNow'> & Partial<Pick<HubConnection, 'send'>>
}

export const ViewerContext = createContext<Viewer | undefined>(undefined)

export function useViewer(): Viewer {
  const viewer = useContext(ViewerContext)
  if (!viewer) throw new Error('useViewer: render inside <ViewerContext value={…}>')
  return viewer
}

/**
 * Subscribes to one slice of the store. The component re-renders only when `selector` returns a
 * value that is not `isEqual` to the last one, so a row selecting its own record sleeps through
 * every other record's chunks. `selector` should be stable (module-level or `useCallback`).
 */
export function useViewerSelector<T>(
  selector: (snapshot: ViewerSnapshot) => T,
  isEqual: (a: T, b: T) => boolean = Object.is,
): T {
  const { store } = useViewer()
  const cache = useRef<{ snapshot: ViewerSnapshot; selector: unknown; selection: T } | undefined>(undefined)
  const getSelection = useCallback((): T => {
    const snapshot = store.getSnapshot()
    const cached = cache.current
    if (cached && cached.selector === selector) {
      if (cached.snapshot === snapshot) return cached.selection
      const selection = selector(snapshot)
      cached.snapshot = snapshot
      if (!isEqual(cached.selection, selection)) cached.selection = selection
      return cached.selection
    }
    const selection = selector(snapshot)
    cache.current = { snapshot, selector, selection }
    return selection
  }, [store, selector, isEqual])
  return useSyncExternalStore(store.subscribe, getSelection, getSelection)
}

export function shallowEqualArrays<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let index = 0; index < a.length; index++) if (a[index] !== b[index]) return false
  return true
}

/** One job; re-renders when that job changes. */
export function useJob(jobId: string): JobState | undefined {
  const selector = useCallback((snapshot: ViewerSnapshot) => snapshot.state.jobs[jobId], [jobId])
  return useViewerSelector(selector)
}

/** One job, taken at most once per `interval` ms (for numbers people read, not for text). */
export function useThrottledJob(jobId: string, interval: number): JobState | undefined {
  const selector = useCallback((snapshot: ViewerSnapshot) => snapshot.state.jobs[jobId], [jobId])
  return useThrottledSelector(selector, Object.is, interval)
}

/** One record; re-renders only when that record changes (not on other records' chunks). */
export function useRecord(jobId: string, recordId: string): RecordState | undefined {
  const selector = useCallback(
    (snapshot: ViewerSnapshot) => {
      const job = snapshot.state.jobs[jobId]
      return job ? getRecord(job, recordId) : undefined
    },
    [jobId, recordId],
  )
  return useViewerSelector(selector)
}

/**
 * Like {@link useViewerSelector}, but a changed value is taken at most once per `interval` ms
 * (the first change after a quiet spell at once). For numbers a person reads (the job header,
 * the hosts and stages panels), which need not change sixty times a second.
 */
export function useThrottledSelector<T>(
  selector: (snapshot: ViewerSnapshot) => T,
  isEqual: (a: T, b: T) => boolean,
  interval: number,
): T {
  const { store } = useViewer()
  const [value, setValue] = useState(() => selector(store.getSnapshot()))
  const current = useRef(value)
  useEffect(() => {
    let takenAt = Number.NEGATIVE_INFINITY
    let timer: ReturnType<typeof setTimeout> | undefined
    const take = (): void => {
      timer = undefined
      const next = selector(store.getSnapshot())
      if (isEqual(current.current, next)) return
      current.current = next
      takenAt = performance.now()
      setValue(() => next)
    }
    const unsubscribe = store.subscribe(() => {
      if (timer !== undefined) return
      const wait = takenAt + interval - performance.now()
      if (wait <= 0) take()
      else timer = setTimeout(take, wait)
    })
    take()
    return () => {
      unsubscribe()
      if (timer !== undefined) clearTimeout(timer)
    }
  }, [store, selector, isEqual, interval])
  return value
}
