import type { ControlCommand, SpoutEvent } from '@spout/core/events'

/**
 * What several hubs share so that a viewer on any of them sees the same jobs with the same
 * sequence numbers (`@spout/redis` implements it on a Redis stream). Without a bus a hub stamps
 * sequences itself and is alone, as ever.
 */
export interface HubBus {
  /** The shared hub id: every hub on the bus reports it, so a viewer may resume on any of them. */
  readonly hubId: string
  /**
   * Stamps validated events from one of this hub's producers with their job's next sequences and
   * hands them to every hub on the bus (this one included), in one order for all. Calls keep
   * their order; a failure is the bus's to report and retry.
   */
  publish(events: SpoutEvent[]): void
  /**
   * Starts delivering every stamped event on the bus: first what the bus still holds (so a hub
   * that starts late knows the running jobs), then live. Resolves once the held events are delivered.
   */
  start(deliver: (events: SpoutEvent[]) => void): Promise<void>
  /**
   * Hands a controlling viewer's command to every hub on the bus: the one a producer of its job is
   * connected to forwards it. Optional: without it a command reaches only this hub's producers.
   */
  command?(command: ControlCommand): void
  /** Starts handing this hub the commands put on the bus (by any hub, this one included). */
  listen?(take: (command: ControlCommand) => void): Promise<void>
  close(): Promise<void>
}
