import type { RecordState } from '@spout/core/events'

/** The record states the filter offers; `retried` is any record that needed more than one attempt. */
export const statusFilters = ['all', 'queued', 'streaming', 'done', 'failed', 'retried', 'skipped'] as const
export type StatusFilter = (typeof statusFilters)[number]

export interface RecordFilter {
  status: StatusFilter
  /** Case-insensitive text to find in the record id, prompts, response, thinking or error. */
  search: string
}

export const noFilter: RecordFilter = { status: 'all', search: '' }

/** Attempts after the first: while a record streams its current attempt, once it ends its total. */
export function retriesOf(record: RecordState): number {
  return Math.max(0, (record.attempts ?? record.attempt) - 1)
}

export function matchesStatus(record: RecordState, status: StatusFilter): boolean {
  if (status === 'all') return true
  if (status === 'retried') return retriesOf(record) > 0
  return record.status === status
}

/**
 * Whether a record passes the filter. Search results are cached per record object: the reducer
 * gives a record a new identity only when it changes, so while a job streams only the records that
 * changed since the last call are searched again.
 */
export function createRecordTest(): (record: RecordState, filter: RecordFilter) => boolean {
  let cachedNeedle = ''
  let cache = new WeakMap<RecordState, boolean>()
  return (record, filter) => {
    const needle = filter.search.trim().toLowerCase()
    if (needle !== cachedNeedle) {
      cachedNeedle = needle
      cache = new WeakMap()
    }
    if (!matchesStatus(record, filter.status)) return false
    if (!needle) return true
    let found = cache.get(record)
    if (found === undefined) {
      found = searchText(record, needle)
      cache.set(record, found)
    }
    return found
  }
}

/** Filters records and returns their ids in order (see {@link createRecordTest}). */
export function createRecordMatcher(): (records: readonly RecordState[], filter: RecordFilter) => string[] {
  const passes = createRecordTest()
  return (records, filter) => {
    const ids: string[] = []
    for (const record of records) if (passes(record, filter)) ids.push(record.recordId)
    return ids
  }
}

function searchText(record: RecordState, needle: string): boolean {
  const includes = (text: string | undefined): boolean => text?.toLowerCase().includes(needle) ?? false
  return (
    includes(record.recordId) ||
    includes(record.prompt) ||
    includes(record.system) ||
    includes(record.text) ||
    includes(record.thinking) ||
    includes(record.error?.message) ||
    (record.messages?.some((message) => includes(message.content)) ?? false)
  )
}
