import type { JobState, RecordState, SpoutEvent } from '@spout/core/events'
import { jobProgress } from '../job-progress.ts'

/** Time series of one job as this page saw it, sampled from the job's counters. */
export interface TimelineSeries {
  /** Sample times, in seconds since the epoch. */
  readonly time: number[]
  /** Tokens (chunks) per second between a sample and the one before it. */
  readonly tokensPerSecond: Array<number | null>
  /** Records finished (done, failed or skipped) at each sample. */
  readonly finished: number[]
  /** Records failed so far. */
  readonly failed: number[]
  /** Attempts after the first so far. */
  readonly retries: number[]
  /** Tokens per second per host, when record-start events name hosts (a pool); aligned with `time`. */
  readonly hosts: Map<string, Array<number | null>>
}

/** What the distributions are made of: one value per finished record. */
export interface FinishedRecordValues {
  /** Time to first token in milliseconds (the request's time before its first generated token). */
  readonly ttftMs: number[]
  readonly tokensPerSecond: number[]
}

/** How many samples and finished-record values a timeline keeps (the oldest go first). */
const maximumSamples = 3_600
const maximumValues = 20_000

/**
 * Samples a job's counters at most once per `interval` ms into time series for the plots. The
 * counters survive the pruning of old records, so the series are exact however long the job runs;
 * a page that joins late starts its series when it joins (records done then count from the job's
 * start). Finished records' metrics are collected once per record for the distributions.
 */
export class JobTimeline {
  readonly series: TimelineSeries = {
    time: [],
    tokensPerSecond: [],
    finished: [],
    failed: [],
    retries: [],
    hosts: new Map(),
  }
  readonly values: FinishedRecordValues = { ttftMs: [], tokensPerSecond: [] }
  readonly #interval: number
  readonly #counted = new Set<string>()
  #lastSampleAt = Number.NEGATIVE_INFINITY
  #lastChunks = 0
  #lastJob: JobState | undefined
  readonly #jobId: string | undefined
  /** The host of each record streaming now (from its record-start). */
  readonly #hostOf = new Map<string, string>()
  /** Chunks per host since the last sample. */
  readonly #hostChunks = new Map<string, number>()

  /** `jobId`: the job whose events {@link observe} counts (all events when absent). */
  constructor(interval = 1_000, jobId?: string) {
    this.#interval = interval
    this.#jobId = jobId
  }

  /** Counts chunks per host from a batch of events (the state keeps no host per record). */
  observe(events: readonly SpoutEvent[]): void {
    for (const event of events) {
      if (this.#jobId !== undefined && event.jobId !== this.#jobId) continue
      if (event.type === 'chunk') {
        const host = this.#hostOf.get(event.recordId)
        if (host !== undefined) this.#hostChunks.set(host, (this.#hostChunks.get(host) ?? 0) + 1)
      } else if (event.type === 'record-start') {
        if (event.host === undefined) continue
        this.#hostOf.set(event.recordId, event.host)
        this.#hostChunks.set(event.host, this.#hostChunks.get(event.host) ?? 0)
      } else if (event.type === 'record-end') this.#hostOf.delete(event.recordId)
    }
  }

  /**
   * Takes a sample when `interval` has passed since the last one, or the job just ended; returns
   * whether it did. Called without new events too, so the rate falls to 0 while nothing streams.
   */
  sample(job: JobState, now: number): boolean {
    const last = this.#lastJob
    // A finished job is sampled once more when it ends, then its series stay as they are.
    if (last && last.status !== 'running' && job.status !== 'running') return false
    const ended = job.status !== 'running' && last?.status === 'running'
    if (now - this.#lastSampleAt < this.#interval && !ended) return false
    const { series } = this
    if (series.time.length === 0) {
      const started = Date.parse(job.startedAt)
      if (Number.isFinite(started) && started > 0 && started < now) this.#push(started, null, 0, 0, 0)
    }
    const seconds = (now - this.#lastSampleAt) / 1000
    const rate =
      Number.isFinite(seconds) && seconds > 0
        ? Math.max(0, job.chunkCount - this.#lastChunks) / seconds
        : null
    this.#push(now, rate, job.ok + job.failed + job.skipped, job.failed, job.retries)
    this.#pushHosts(seconds)
    this.#lastSampleAt = now
    this.#lastChunks = job.chunkCount
    this.#lastJob = job
    this.#collect(job.records)
    return true
  }

  /** The estimated end (epoch ms) and the total, while the job runs and its total is known. */
  eta(job: JobState, now: number): { at: number; total: number } | undefined {
    const progress = jobProgress(job, now)
    if (progress.etaMs === undefined || progress.total === undefined) return undefined
    return { at: now + progress.etaMs, total: progress.total }
  }

  #push(at: number, rate: number | null, finished: number, failed: number, retries: number): void {
    const { series } = this
    series.time.push(at / 1000)
    series.tokensPerSecond.push(rate)
    series.finished.push(finished)
    series.failed.push(failed)
    series.retries.push(retries)
    if (series.time.length > maximumSamples) {
      for (const values of [
        series.time,
        series.tokensPerSecond,
        series.finished,
        series.failed,
        series.retries,
      ])
        values.shift()
      for (const values of series.hosts.values()) values.shift()
    }
  }

  #pushHosts(seconds: number): void {
    const { hosts, time } = this.series
    for (const [host, chunks] of this.#hostChunks) {
      let values = hosts.get(host)
      if (!values) {
        values = new Array<number | null>(time.length - 1).fill(null)
        hosts.set(host, values)
      }
      values.push(Number.isFinite(seconds) && seconds > 0 ? chunks / seconds : null)
      if (values.length > time.length) values.splice(0, values.length - time.length)
      this.#hostChunks.set(host, 0)
    }
  }

  #collect(records: readonly RecordState[]): void {
    for (const record of records) {
      if (record.status !== 'done' || this.#counted.has(record.recordId)) continue
      this.#counted.add(record.recordId)
      const metrics = record.metrics
      if (!metrics) continue
      if (metrics.total_duration !== undefined && metrics.eval_duration !== undefined) {
        keep(this.values.ttftMs, Math.max(0, (metrics.total_duration - metrics.eval_duration) / 1e6))
      }
      if (metrics.tokens_per_second !== undefined)
        keep(this.values.tokensPerSecond, metrics.tokens_per_second)
    }
  }
}

function keep(values: number[], value: number): void {
  values.push(value)
  if (values.length > maximumValues) values.splice(0, values.length - maximumValues)
}

/** Counts `values` into `binCount` equal bins between their minimum and maximum. */
export function histogram(values: readonly number[], binCount = 20): { centers: number[]; counts: number[] } {
  if (values.length === 0) return { centers: [], counts: [] }
  let minimum = Number.POSITIVE_INFINITY
  let maximum = Number.NEGATIVE_INFINITY
  for (const value of values) {
    if (value < minimum) minimum = value
    if (value > maximum) maximum = value
  }
  const width = maximum > minimum ? (maximum - minimum) / binCount : 1
  const bins = maximum > minimum ? binCount : 1
  const counts = new Array<number>(bins).fill(0)
  for (const value of values) counts[Math.min(bins - 1, Math.floor((value - minimum) / width))]! += 1
  const centers = counts.map((_, index) => minimum + width * (index + 0.5))
  return { centers, counts }
}
