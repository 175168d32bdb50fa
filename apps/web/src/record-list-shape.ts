import type { RecordState } from '@spout/core/events'
import type { RecordFilter } from './record-filter.ts'
import { createRecordTest } from './record-filter.ts'
import { shallowEqualArrays } from './use-viewer.ts'

/** What the record list shows: a row per record, and the queued records together at the end. */
export interface ListShape {
  /** Records shown as rows, in order. */
  readonly ids: readonly string[]
  /**
   * Records waiting for a slot, shown as one compact group after the rows (unless the filter asks
   * for queued records, which are then rows): a job reading ahead keeps a dozen of them, and as rows
   * they would push the records being written out of a view that follows the end of the list.
   */
  readonly queued: readonly string[]
}

export const emptyShape: ListShape = { ids: [], queued: [] }

export function sameShape(a: ListShape, b: ListShape): boolean {
  return shallowEqualArrays(a.ids, b.ids) && shallowEqualArrays(a.queued, b.queued)
}

/** The same rows, and a queued group or none in both: what the list around the rows depends on. */
export function sameRows(a: ListShape, b: ListShape): boolean {
  return shallowEqualArrays(a.ids, b.ids) && a.queued.length > 0 === b.queued.length > 0
}

/** Builds a job's {@link ListShape} for a filter; keep one per list (it caches search results). */
export function createListShape(): (records: readonly RecordState[], filter: RecordFilter) => ListShape {
  const passes = createRecordTest()
  return (records, filter) => {
    const group = filter.status !== 'queued'
    const ids: string[] = []
    const queued: string[] = []
    for (const record of records) {
      if (!passes(record, filter)) continue
      if (group && record.status === 'queued') queued.push(record.recordId)
      else ids.push(record.recordId)
    }
    return ids.length === 0 && queued.length === 0 ? emptyShape : { ids, queued }
  }
}
