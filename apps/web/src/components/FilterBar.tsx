import type { RecordFilter, StatusFilter } from '../record-filter.ts'
import { statusFilters } from '../record-filter.ts'

/** State buttons, the search box and the raw-text switch. */
export function FilterBar({
  filter,
  onChange,
  raw = false,
  onRawChange,
}: {
  filter: RecordFilter
  onChange: (filter: RecordFilter) => void
  /** Responses shown as the raw text instead of rendered Markdown. */
  raw?: boolean
  onRawChange?: (raw: boolean) => void
}) {
  return (
    <div className="filters">
      <fieldset className="status-filter">
        <legend className="visually-hidden">Show records</legend>
        {statusFilters.map((status: StatusFilter) => (
          <button
            key={status}
            type="button"
            className="chip"
            aria-pressed={filter.status === status}
            onClick={() => onChange({ ...filter, status })}
          >
            {status}
          </button>
        ))}
      </fieldset>
      <input
        type="search"
        className="search"
        placeholder="Search prompts and responses"
        aria-label="Search prompts and responses"
        value={filter.search}
        onChange={(event) => onChange({ ...filter, search: event.currentTarget.value })}
      />
      {onRawChange ? (
        <button type="button" className="chip" aria-pressed={raw} onClick={() => onRawChange(!raw)}>
          Raw text
        </button>
      ) : null}
    </div>
  )
}
