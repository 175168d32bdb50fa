/** Counters behind `GET /metrics`. Plain numbers; the hub bumps them on its hot paths. */
export class HubMetrics {
  eventsIn = 0
  framesIn = 0
  bytesIn = 0
  invalidFrames = 0
  /** Events delivered, counted once per viewer. */
  eventsOut = 0
  framesOut = 0
  /** Of `framesOut`, the ticks that went compressed (`compression`). */
  framesCompressed = 0
  bytesOut = 0
  viewersDroppedSlow = 0
  /** Times a viewer fell behind and started skipping ticks. */
  viewersFellBehind = 0
  /** Times a viewer that was behind got a snapshot and was live again. */
  viewersCaughtUp = 0
  peersDroppedDead = 0
  rejectedUnauthorized = 0
  rejectedOrigin = 0
}

export interface MetricsGauges {
  viewers: number
  /** Viewers skipping ticks until they have drained. */
  viewersBehind: number
  /** Bytes buffered for all viewers (ws `bufferedAmount`). */
  viewerBufferedBytes: number
  producers: number
  jobsRunning: number
  jobsFinished: number
  /** Records held over all kept jobs (running ones and the kept finished ones). */
  recordsHeld: number
  historyEvents: number
  historyBytes: number
  /** The viewers' tick right now, ms. */
  tickMs: number
}

/** Renders the counters in the Prometheus text exposition format (version 0.0.4). */
export function formatMetrics(metrics: HubMetrics, gauges: MetricsGauges): string {
  const lines: string[] = []
  const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`)
  }
  metric('spout_hub_connections', 'gauge', 'Open WebSocket connections by role.', [
    ['{role="viewer"}', gauges.viewers],
    ['{role="producer"}', gauges.producers],
  ])
  metric('spout_hub_viewers_behind', 'gauge', 'Viewers skipping ticks until their send buffer drains.', [
    ['', gauges.viewersBehind],
  ])
  metric('spout_hub_viewer_buffered_bytes', 'gauge', 'Bytes buffered for all viewers together.', [
    ['', gauges.viewerBufferedBytes],
  ])
  metric(
    'spout_hub_tick_seconds',
    'gauge',
    'How often viewers get a frame while events flow; follows the fan-out cost.',
    [['', gauges.tickMs / 1000]],
  )
  metric('spout_hub_jobs', 'gauge', 'Jobs kept in memory by status.', [
    ['{status="running"}', gauges.jobsRunning],
    ['{status="finished"}', gauges.jobsFinished],
  ])
  metric('spout_hub_records', 'gauge', 'Records held in memory over all jobs (running and kept finished).', [
    ['', gauges.recordsHeld],
  ])
  metric('spout_hub_history_events', 'gauge', 'Events held in the resume history.', [
    ['', gauges.historyEvents],
  ])
  metric('spout_hub_history_bytes', 'gauge', 'Bytes of JSON held in the resume history.', [
    ['', gauges.historyBytes],
  ])
  metric('spout_hub_events_in_total', 'counter', 'Valid events received from producers.', [
    ['', metrics.eventsIn],
  ])
  metric('spout_hub_frames_in_total', 'counter', 'Frames received from producers.', [['', metrics.framesIn]])
  metric('spout_hub_invalid_frames_total', 'counter', 'Producer frames refused with a hub-error.', [
    ['', metrics.invalidFrames],
  ])
  metric('spout_hub_events_out_total', 'counter', 'Events sent to viewers, once per viewer.', [
    ['', metrics.eventsOut],
  ])
  metric('spout_hub_frames_out_total', 'counter', 'Frames sent to viewers.', [['', metrics.framesOut]])
  metric('spout_hub_frames_compressed_total', 'counter', 'Frames sent to viewers compressed.', [
    ['', metrics.framesCompressed],
  ])
  metric('spout_hub_bytes_total', 'counter', 'WebSocket bytes by direction (out: as sent).', [
    ['{direction="in"}', metrics.bytesIn],
    ['{direction="out"}', metrics.bytesOut],
  ])
  metric(
    'spout_hub_viewer_catch_up_total',
    'counter',
    'Viewers that fell behind, and that came back with a snapshot.',
    [
      ['{step="fell-behind"}', metrics.viewersFellBehind],
      ['{step="caught-up"}', metrics.viewersCaughtUp],
    ],
  )
  metric('spout_hub_dropped_total', 'counter', 'Connections the hub cut, by reason.', [
    ['{reason="slow-viewer"}', metrics.viewersDroppedSlow],
    ['{reason="dead-peer"}', metrics.peersDroppedDead],
  ])
  metric('spout_hub_rejected_total', 'counter', 'Connections refused at connect, by reason.', [
    ['{reason="unauthorized"}', metrics.rejectedUnauthorized],
    ['{reason="origin"}', metrics.rejectedOrigin],
  ])
  return `${lines.join('\n')}\n`
}
