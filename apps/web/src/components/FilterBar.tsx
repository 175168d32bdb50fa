import type { RecordFilter, StatusFilter } from '../record-filter.ts'
import { statusFilters } from '../record-filter.ts'

/** State buttons and the search box. */
export function FilterBar({
  filter,
  onChange,
}: {
  filter: RecordFilter
  onChange: (filter: RecordFilter) => void
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
    </div>
  )
}
