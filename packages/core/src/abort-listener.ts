// Listening to an AbortSignal that outlives many requests (a job's, a program's) without one
// EventTarget listener per request. Node keeps a removed listener linked to the ones added after it;
// once a removed one has been promoted to V8's old generation, it keeps every later listener (and the
// request behind each) alive until a full GC, and a long batch grows the heap by hundreds of MB. A Set
// has the same flaw (a rehashed table points to its successor). Here each signal gets one listener,
// for good, and requests come and go in a list whose removed links point nowhere.

interface Link {
  callback: (() => void) | undefined
  previous: Link
  next: Link
}

/** A circular list with a sentinel; `unlink` clears the link's own pointers. */
function createList(): Link {
  const sentinel = { callback: undefined } as Link
  sentinel.previous = sentinel
  sentinel.next = sentinel
  return sentinel
}

const lists = new WeakMap<AbortSignal, Link>()

/**
 * Calls `callback` once when `signal` aborts; the returned function stops listening. A signal that is
 * already aborted never calls back: check `signal.aborted` first.
 */
export function onAbort(signal: AbortSignal, callback: () => void): () => void {
  let list = lists.get(signal)
  if (list === undefined) {
    const created = createList()
    list = created
    lists.set(signal, created)
    signal.addEventListener('abort', () => fire(signal, created), { once: true })
  }
  const link: Link = { callback, previous: list.previous, next: list }
  list.previous.next = link
  list.previous = link
  return () => unlink(link)
}

function unlink(link: Link): void {
  if (link.callback === undefined) return
  link.previous.next = link.next
  link.next.previous = link.previous
  link.callback = undefined
  link.previous = link
  link.next = link
}

function fire(signal: AbortSignal, list: Link): void {
  lists.delete(signal)
  const links: Link[] = []
  for (let link = list.next; link !== list; link = link.next) links.push(link)
  // A callback may stop later ones (a stream that ends because another one did): those are skipped.
  for (const link of links) {
    const callback = link.callback
    if (callback === undefined) continue
    unlink(link)
    callback()
  }
}
