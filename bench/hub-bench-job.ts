// The producer's side of the hub bench: the events of a realistic job, as JSON text, with the send
// time of each chunk in it so the viewers can time its delivery.
import { now } from './hub-viewer-process.ts'

/**
 * How long the job's records are. `varied`: as a model's answers, from half to one and a half
 * times the mean, so records end at scattered moments. `lockstep`: every record the mean long; as
 * the slots take turns, all of them end in the same tick (every 1.9 s at 2,000 chunks/s), and that
 * tick carries every slot's `record-end` with its whole response: a stress case, not a real run.
 */
export type JobShape = 'varied' | 'lockstep'

interface Slot {
  recordId: string
  seq: number
  /** Chunks this record has. */
  length: number
  text: string[]
}

/** Spreads lengths evenly over [0, 1) with no pattern a tick could line up with (the golden ratio's steps). */
const goldenStep = (Math.sqrt(5) - 1) / 2

/** The events of a realistic job: `slots` records stream at once, `chunksPerRecord` chunks long on average. */
export class Job {
  readonly jobId = 'bench-job'
  readonly #slots: Slot[] = []
  readonly #chunksPerRecord: number
  readonly #shape: JobShape
  #records = 0
  #turn = 0
  sent = 0

  constructor(slots: number, chunksPerRecord: number, shape: JobShape = 'varied') {
    this.#chunksPerRecord = chunksPerRecord
    this.#shape = shape
    for (let index = 0; index < slots; index++)
      this.#slots.push({ recordId: '', seq: 0, length: 0, text: [] })
  }

  start(): string[] {
    const events = [
      this.#json({
        type: 'job-start',
        jobId: this.jobId,
        name: 'bench',
        model: 'llama3.2:1b',
        host: 'http://127.0.0.1:11434',
        startedAt: new Date().toISOString(),
      }),
    ]
    for (const slot of this.#slots) events.push(this.#recordStart(slot))
    return events
  }

  /** One chunk, stamped with its send time, and the record-end and next record-start when its record is done. */
  chunk(warmUp: boolean): string[] {
    const slot = this.#slots[this.#turn]!
    this.#turn = (this.#turn + 1) % this.#slots.length
    const text = `@${warmUp ? 'w' : ''}${now().toFixed(3)}| token`
    slot.text.push(text)
    const events = [
      this.#json({ type: 'chunk', jobId: this.jobId, recordId: slot.recordId, seq: slot.seq, text }),
    ]
    slot.seq += 1
    if (slot.seq === slot.length) events.push(this.#recordEnd(slot), this.#recordStart(slot))
    return events
  }

  end(): string[] {
    const events = this.#slots.map((slot) => this.#recordEnd(slot))
    events.push(
      this.#json({
        type: 'job-end',
        jobId: this.jobId,
        summary: { ok: this.#records, failed: 0, skipped: 0, tokens: 0, duration: 10_000 },
        endedAt: new Date().toISOString(),
      }),
    )
    return events
  }

  #recordStart(slot: Slot): string {
    this.#records += 1
    slot.recordId = `record-${this.#records}`
    slot.seq = 0
    slot.length = this.#lengthOf(this.#records)
    slot.text = []
    return this.#json({
      type: 'record-start',
      jobId: this.jobId,
      recordId: slot.recordId,
      attempt: 1,
      model: 'llama3.2:1b',
      prompt: `Summarize item ${this.#records} in one paragraph.`,
    })
  }

  /** The `record`th record's length in chunks (deterministic: every run sends the same job). */
  #lengthOf(record: number): number {
    if (this.#shape === 'lockstep') return this.#chunksPerRecord
    const spread = (record * goldenStep) % 1
    return Math.max(1, Math.round(this.#chunksPerRecord * (0.5 + spread)))
  }

  #recordEnd(slot: Slot): string {
    return this.#json({
      type: 'record-end',
      jobId: this.jobId,
      recordId: slot.recordId,
      response: slot.text.join(''),
      doneReason: 'stop',
      metrics: { eval_count: slot.text.length, eval_duration: 1e9, tokens_per_second: 60 },
      attempts: 1,
    })
  }

  #json(event: object): string {
    this.sent += 1
    return JSON.stringify(event)
  }
}
