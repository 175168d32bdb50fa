/**
 * Resolves `true` when `promise` settles before the event loop's next turn (its value was at hand:
 * buffered, or pushed by code already running), `false` when it waits longer (I/O, a timer, another
 * producer). Lets a reader hand on what it has gathered before it waits.
 */
export function settlesNow(promise: Promise<unknown>): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const later = setImmediate(() => resolve(false))
    const now = () => {
      clearImmediate(later)
      resolve(true)
    }
    promise.then(now, now)
  })
}
