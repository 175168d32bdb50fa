/** Polls until `predicate` holds; the limit is generous because the machine may be loaded. */
export async function until(predicate: () => boolean, what: string, timeout = 30_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Like `until`, for a predicate that has to ask something over the network. */
export async function untilAsync(
  predicate: () => Promise<boolean>,
  what: string,
  timeout = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
