import { PluginError, RecordError, type SpoutError } from './errors.ts'
import type {
  FunctionPluginHooks,
  Hook,
  ParallelPluginHooks,
  PluginContext,
  PluginHookName,
  PluginOption,
  SequentialPluginHooks,
  SpoutPlugin,
} from './plugin.ts'

/**
 * Every hook and its kind. Typed as a record over the hook names, so adding a hook to
 * `FunctionPluginHooks` without giving it a kind does not compile (rollup's `inputHookNames`).
 */
export const hookKinds: Readonly<Record<PluginHookName, 'sequential' | 'parallel'>> = {
  buildPrompt: 'sequential',
  jobStart: 'parallel',
  recordQueued: 'parallel',
  recordStart: 'parallel',
  writeChunk: 'parallel',
  recordEnd: 'parallel',
  hosts: 'parallel',
  jobEnd: 'parallel',
}

/** A hook's arguments without the trailing context. */
type HookArguments<H extends PluginHookName> =
  Parameters<FunctionPluginHooks[H]> extends [...infer Arguments, PluginContext] ? Arguments : never

interface BoundHook<H extends PluginHookName> {
  readonly plugin: SpoutPlugin
  readonly handler: FunctionPluginHooks[H]
  readonly context: PluginContext
}

/** Flattens presets and drops falsy entries, keeping the user's order. */
export function flattenPlugins(option: PluginOption): SpoutPlugin[] {
  const plugins: SpoutPlugin[] = []
  const visit = (each: PluginOption): void => {
    if (!each) return
    if (Array.isArray(each)) {
      for (const inner of each as readonly PluginOption[]) visit(inner)
      return
    }
    plugins.push(each as SpoutPlugin)
  }
  visit(option)
  return plugins
}

/**
 * Runs plugin hooks by kind: `hookReduceArg0` for sequential hooks (each gets the previous one's
 * value), `hookParallel` for parallel ones (all at once, awaited together). Every call is wrapped so
 * a throw becomes a {@link PluginError} naming the plugin and the hook.
 */
export class PluginDriver {
  readonly plugins: readonly SpoutPlugin[]
  readonly #contexts: ReadonlyMap<SpoutPlugin, PluginContext>
  readonly #sorted = new Map<PluginHookName, readonly BoundHook<PluginHookName>[]>()

  /**
   * @param createContext called once per plugin, when the driver is built.
   * @throws PluginError when a plugin has no name or a hook is neither a function nor `{ handler }`.
   */
  constructor(plugins: PluginOption, createContext: (plugin: SpoutPlugin) => PluginContext) {
    this.plugins = flattenPlugins(plugins)
    const contexts = new Map<SpoutPlugin, PluginContext>()
    this.plugins.forEach((plugin, position) => {
      if (typeof plugin !== 'object' || typeof plugin.name !== 'string' || plugin.name === '') {
        throw new PluginError({
          plugin: `plugin-${position + 1}`,
          hook: 'name',
          cause: new TypeError('a plugin needs a `name`'),
        })
      }
      contexts.set(plugin, createContext(plugin))
    })
    this.#contexts = contexts
    for (const hookName of Object.keys(hookKinds) as PluginHookName[]) this.#sort(hookName)
  }

  /** True when at least one plugin has this hook. */
  has(hookName: PluginHookName): boolean {
    return (this.#sorted.get(hookName)?.length ?? 0) > 0
  }

  /**
   * Sequential: each handler gets the value the previous one returned (or kept, by returning
   * `undefined`); resolves to the last value.
   */
  async hookReduceArg0<H extends SequentialPluginHooks>(
    hookName: H,
    ...[initial, ...rest]: HookArguments<H>
  ): Promise<HookArguments<H>[0]> {
    let value = initial
    for (const { plugin, handler, context } of this.#hooks(hookName)) {
      try {
        const next = (await (handler as (...values: unknown[]) => unknown)(value, ...rest, context)) as
          | HookArguments<H>[0]
          | undefined
        if (next !== undefined && next !== null) value = next
      } catch (error) {
        throw wrap(error, plugin, hookName)
      }
    }
    return value
  }

  /**
   * Parallel: calls every handler at once and waits for all of them. Returns `undefined` without a
   * promise when no handler returned one (the chunk path stays synchronous for synchronous sinks).
   * When handlers throw, the others still finish; the first failure is thrown as a `PluginError`
   * (a `RecordError` as it is).
   */
  hookParallel<H extends ParallelPluginHooks>(
    hookName: H,
    ...[argument]: HookArguments<H>
  ): Promise<void> | undefined {
    const hooks = this.#hooks(hookName)
    if (hooks.length === 0) return undefined
    if (hooks.length === 1) {
      const { plugin, handler, context } = hooks[0]!
      let result: void | Promise<void>
      try {
        result = (handler as (value: typeof argument, context: PluginContext) => void | Promise<void>)(
          argument,
          context,
        )
      } catch (error) {
        return Promise.reject(wrap(error, plugin, hookName))
      }
      if (!isThenable(result)) return undefined
      return result.then(undefined, (error: unknown) => {
        throw wrap(error, plugin, hookName)
      })
    }
    let pending: Promise<void>[] | undefined
    let failure: SpoutError | undefined
    for (const { plugin, handler, context } of hooks) {
      try {
        const result = (handler as (value: typeof argument, context: PluginContext) => void | Promise<void>)(
          argument,
          context,
        )
        if (isThenable(result)) {
          pending ??= []
          pending.push(
            result.then(undefined, (error: unknown) => {
              failure ??= wrap(error, plugin, hookName)
            }),
          )
        }
      } catch (error) {
        failure ??= wrap(error, plugin, hookName)
      }
    }
    if (!pending) return failure ? Promise.reject(failure) : undefined
    return Promise.all(pending).then(() => {
      if (failure) throw failure
    })
  }

  #hooks<H extends PluginHookName>(hookName: H): readonly BoundHook<H>[] {
    return (this.#sorted.get(hookName) ?? []) as readonly BoundHook<H>[]
  }

  #sort(hookName: PluginHookName): void {
    const pre: BoundHook<PluginHookName>[] = []
    const normal: BoundHook<PluginHookName>[] = []
    const post: BoundHook<PluginHookName>[] = []
    for (const plugin of this.plugins) {
      const hook = plugin[hookName] as Hook<FunctionPluginHooks[PluginHookName]> | undefined
      if (hook === undefined || hook === null) continue
      let handler: unknown
      let order: unknown
      if (typeof hook === 'function') {
        handler = hook
      } else if (typeof hook === 'object') {
        handler = hook.handler
        order = hook.order
      }
      if (typeof handler !== 'function') {
        throw new PluginError({
          plugin: plugin.name,
          hook: hookName,
          cause: new TypeError('the hook must be a function or `{ handler: function, order }`'),
        })
      }
      if (order !== undefined && order !== null && order !== 'pre' && order !== 'post') {
        throw new PluginError({
          plugin: plugin.name,
          hook: hookName,
          cause: new TypeError(`order must be 'pre' or 'post', not ${JSON.stringify(order)}`),
        })
      }
      const bound = {
        plugin,
        handler: (handler as (...values: unknown[]) => unknown).bind(plugin),
        context: this.#contexts.get(plugin)!,
      } as BoundHook<PluginHookName>
      if (order === 'pre') pre.push(bound)
      else if (order === 'post') post.push(bound)
      else normal.push(bound)
    }
    this.#sorted.set(hookName, [...pre, ...normal, ...post])
  }
}

function isThenable(value: unknown): value is Promise<void> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function'
}

/** A hook's throw as a `PluginError` naming the plugin and hook; a `RecordError` stays as it is. */
function wrap(error: unknown, plugin: SpoutPlugin, hookName: PluginHookName): SpoutError {
  if (error instanceof PluginError || error instanceof RecordError) return error
  return new PluginError({ plugin: plugin.name, hook: hookName, cause: error })
}
