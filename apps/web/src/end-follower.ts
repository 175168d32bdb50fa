import type { Virtualizer } from '@tanstack/react-virtual'

type ListVirtualizer = Virtualizer<HTMLDivElement, Element>
type ReportOffset = (offset: number, isScrolling: boolean) => void

/** How close to the end (px) still counts as "at the end" for follow mode. */
export const endThreshold = 48
const scrollUpKeys = new Set(['ArrowUp', 'PageUp', 'Home'])
/** Quiet time (ms) after the reader's last scroll event before their scroll counts as ended. */
const scrollIdleMs = 150

/**
 * Keeps the end of a virtual list in sight without ever reading the layout while it follows. The
 * end is where the virtualizer's own numbers put it (its total size less the viewport's height,
 * which a ResizeObserver reports); the scroll area is written at most once per animation frame,
 * right after the frame's ResizeObserver delivery (rows measured, the list's height written), or in
 * an animation frame when no delivery is due. Its own writes come back as scroll events that are
 * reported to the virtualizer without reading `scrollTop`; only the reader's scrolls are read.
 *
 * Scrolling up (wheel, keys, touch, dragging the scroll bar) pauses following; coming back to the
 * end, or {@link EndFollower.follow}, resumes it.
 */
export class EndFollower {
  #following = true
  readonly #onFollowingChange: (following: boolean) => void
  #instance: ListVirtualizer | undefined
  #element: HTMLElement | undefined
  #window: Window | undefined
  #report: ReportOffset | undefined
  /** Where the last write put the scroll area, until the scroll event that reports it. */
  #written: number | undefined
  #wroteThisFrame = false
  #frameRequested = false
  /**
   * A row mounted, so the ResizeObserver reports in the next frame (after its animation frames),
   * where the end is brought into view: `due`, then `waited` once a frame passed without it.
   */
  #delivery: 'none' | 'due' | 'waited' = 'none'
  /** Inside a ResizeObserver delivery or an animation frame: a write now lands in this frame. */
  #inFrame = false
  /** The reader touched the scroll area: its scroll events are read until it is quiet. */
  #readerScrolling = false
  #idleTimer: ReturnType<typeof setTimeout> | undefined
  #pointerDown = false
  /** Where the scroll area is, as far as this page wrote it or its scroll events reported it. */
  #position = 0
  /** Paused, the reader has scrolled away from the end (coming back to it resumes following). */
  #awayFromEnd = false

  constructor(onFollowingChange: (following: boolean) => void) {
    this.#onFollowingChange = onFollowingChange
  }

  get following(): boolean {
    return this.#following
  }

  /** Follows again and brings the end into view ("Follow" button). */
  follow = (): void => {
    this.#setFollowing(true)
    this.keep()
  }

  /**
   * Brings the end into view if it moved: after every commit of the list and every change the
   * virtualizer reports. Writes at once inside a frame (once per frame), else asks for one.
   */
  keep = (): void => {
    const instance = this.#instance
    if (!this.#following || !instance || instance.options.count === 0) return
    const target = this.#end(instance)
    if (Math.abs(target - (this.#written ?? instance.scrollOffset ?? 0)) < 1) return
    if (this.#inFrame && !this.#wroteThisFrame) this.#write(target)
    else this.#requestFrame()
  }

  /**
   * The virtualizer's `measureElement`: a row's height from its ResizeObserver entry, which the
   * browser fills in during its own layout. When a row mounts there is no entry yet: its last known
   * height (or the estimate) stands until the observer's first report, in the same frame, before it
   * is painted. Reading `offsetHeight` there instead (the library's default) forces a layout of the
   * whole page for every row that mounts. After a delivery, the end is brought into view once.
   */
  measure = (element: Element, entry: ResizeObserverEntry | undefined, instance: ListVirtualizer): number => {
    const box = entry?.borderBoxSize?.[0]
    if (entry) this.#afterDelivery()
    else this.#delivery = 'due'
    if (box) return Math.round(box.blockSize)
    const index = instance.indexFromElement(element)
    return (
      instance.itemSizeCache.get(instance.options.getItemKey(index)) ?? instance.options.estimateSize(index)
    )
  }

  /**
   * The virtualizer's `observeElementRect`: the viewport's size from a ResizeObserver, which the
   * browser reports after its own layout. The library's default also reads `clientHeight` when the
   * list mounts, which lays out a whole new job view inside the task that mounted it.
   */
  observeRect = (instance: ListVirtualizer, report: (rect: { width: number; height: number }) => void) => {
    const element = instance.scrollElement
    const Observer = instance.targetWindow?.ResizeObserver
    if (!element || !Observer) return undefined
    const observer = new Observer(([entry]) => {
      const box = entry?.contentBoxSize?.[0]
      if (box) report({ width: Math.round(box.inlineSize), height: Math.round(box.blockSize) })
    })
    observer.observe(element, { box: 'content-box' })
    return () => observer.disconnect()
  }

  /**
   * The virtualizer's `scrollToFn`. A write where the scroll area already is (the list writes 0
   * when it mounts) is skipped: even that write lays the page out first, here a whole new job view
   * inside the task that mounted it.
   */
  scrollTo = (
    offset: number,
    { adjustments = 0, behavior }: { adjustments?: number; behavior?: ScrollBehavior },
    instance: ListVirtualizer,
  ): void => {
    const target = offset + adjustments
    if (target === this.#position && behavior !== 'smooth') return
    this.#position = target
    instance.scrollElement?.scrollTo({ top: target, ...(behavior ? { behavior } : {}) })
  }

  /** The virtualizer's `observeElementOffset`: scroll events, and the reader's hand on the list. */
  observeOffset = (instance: ListVirtualizer, report: ReportOffset): (() => void) | undefined => {
    const element = instance.scrollElement
    const targetWindow = instance.targetWindow
    if (!element || !targetWindow) return undefined
    this.#instance = instance
    this.#element = element
    this.#window = targetWindow
    this.#report = report
    const listeners: Array<[EventTarget, string, EventListener]> = [
      [element, 'scroll', this.#onScroll],
      [element, 'wheel', this.#onWheel as EventListener],
      [element, 'keydown', this.#onKey as EventListener],
      [element, 'touchmove', this.#onTouchMove],
      [element, 'pointerdown', this.#onPointerDown as EventListener],
      [targetWindow, 'pointerup', this.#onPointerUp],
    ]
    for (const [target, type, listener] of listeners)
      target.addEventListener(type, listener, { passive: true })
    return () => {
      for (const [target, type, listener] of listeners) target.removeEventListener(type, listener)
      clearTimeout(this.#idleTimer)
      this.#report = undefined
      this.#instance = undefined
      this.#written = undefined
    }
  }

  /** The scroll offset that shows the end: the list's total height less the viewport's. */
  #end(instance: ListVirtualizer): number {
    return Math.max(0, instance.getTotalSize() - (instance.scrollRect?.height ?? 0))
  }

  #distanceFromEnd(offset: number): number {
    const instance = this.#instance
    return instance ? this.#end(instance) - offset : 0
  }

  #write(target: number): void {
    this.#element!.scrollTop = target
    this.#position = target
    this.#written = target
    this.#wroteThisFrame = true
    this.#requestFrame()
  }

  #requestFrame(): void {
    if (this.#frameRequested || !this.#window) return
    this.#frameRequested = true
    this.#window.requestAnimationFrame(this.#onFrame)
  }

  /** A new frame: the scroll events of the last write were dispatched before its animation frames. */
  #onFrame = (): void => {
    this.#frameRequested = false
    this.#wroteThisFrame = false
    if (this.#written !== undefined) {
      // The write moved nothing (the area was already there), so no event reported it.
      const written = this.#written
      this.#written = undefined
      this.#report?.(written, false)
    }
    if (this.#delivery === 'due') {
      // The delivery after this frame's animation frames writes; look again in the next frame.
      this.#delivery = 'waited'
      this.#requestFrame()
      return
    }
    this.#delivery = 'none'
    this.#inFrame = true
    try {
      this.keep()
    } finally {
      this.#inFrame = false
    }
  }

  /** Runs once the ResizeObserver delivery ends (the virtualizer has applied every entry). */
  #afterDelivery(): void {
    if (this.#inFrame) return
    this.#inFrame = true
    queueMicrotask(() => {
      this.#delivery = 'none'
      try {
        this.keep()
      } finally {
        this.#inFrame = false
      }
    })
  }

  #onScroll = (): void => {
    const report = this.#report
    const element = this.#element
    if (!report || !element) return
    if (this.#written !== undefined && !this.#readerScrolling) {
      // The report of this page's own write: where it put the area, with no layout read.
      const written = this.#written
      this.#written = undefined
      this.#position = written
      report(written, false)
      return
    }
    this.#written = undefined
    const offset = element.scrollTop
    this.#position = offset
    report(offset, true)
    clearTimeout(this.#idleTimer)
    this.#idleTimer = setTimeout(() => {
      this.#readerScrolling = false
      this.#position = element.scrollTop
      this.#report?.(this.#position, false)
    }, scrollIdleMs)
    const atEnd = this.#distanceFromEnd(offset) <= endThreshold
    if (this.#pointerDown && !atEnd) this.#setFollowing(false)
    if (this.#following) return
    // Not following, no scroll is this page's: the reader left the end, or came back to it.
    if (!atEnd) this.#awayFromEnd = true
    else if (this.#awayFromEnd && (this.#instance?.options.count ?? 0) > 0) this.#setFollowing(true)
  }

  #onWheel = (event: WheelEvent): void => {
    this.#readerScrolling = true
    if (event.deltaY < 0) this.#setFollowing(false)
  }

  #onKey = (event: KeyboardEvent): void => {
    this.#readerScrolling = true
    if (scrollUpKeys.has(event.key)) this.#setFollowing(false)
  }

  #onTouchMove = (): void => {
    this.#readerScrolling = true
    const element = this.#element
    if (element && this.#distanceFromEnd(element.scrollTop) > endThreshold) this.#setFollowing(false)
  }

  #onPointerDown = (event: PointerEvent): void => {
    this.#pointerDown = event.target === this.#element
    if (this.#pointerDown) this.#readerScrolling = true
  }

  #onPointerUp = (): void => {
    this.#pointerDown = false
  }

  #setFollowing(following: boolean): void {
    if (following === this.#following) return
    this.#following = following
    this.#written = undefined
    this.#awayFromEnd = false
    this.#onFollowingChange(following)
  }
}
