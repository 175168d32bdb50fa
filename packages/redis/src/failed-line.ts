// The line the collector writes itself for a record no worker handed one back for.
import type { InputRecord, RecordResult } from '@spout/core'
import { blankResult } from '@spout/core/plugin'
import type { BatchSpec } from './queue-keys.ts'

/** The failed line of a record ended here: BullMQ gave up on it, or a viewer stopped it while it waited. */
export function failedLine(
  spec: BatchSpec,
  id: string,
  record: InputRecord,
  code: 'SPOUT_QUEUE_JOB_FAILED' | 'SPOUT_ABORTED',
  reason: string,
): RecordResult {
  const now = new Date().toISOString()
  return {
    ...blankResult(id, record, spec.model, 'queue', now),
    ended_at: now,
    error: { code, message: `record ${id}: ${reason}` },
  }
}
