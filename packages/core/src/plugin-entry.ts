// The entry `@spout/core/plugin`: the plugin SDK in full. The main entry carries what a plugin
// needs (`SpoutPlugin`, `definePlugin`, its context); here are the hook kinds and their types, for
// code that drives or wraps hooks, the template compiler behind `templatePrompt`, and the blank result
// line, for code that writes the line of a record that never ran (a queue's collector, a skip).

export type {
  BuildPromptResult,
  FunctionPluginHooks,
  Hook,
  HookOrder,
  InputRecord,
  JobControl,
  ParallelPluginHooks,
  PipelineRequest,
  PluginContext,
  PluginHookName,
  PluginJob,
  PluginLogger,
  PluginOption,
  RecordResult,
  SequentialPluginHooks,
  SpoutPlugin,
} from './plugin.ts'
export { definePlugin } from './plugin.ts'
export { blankResult } from './record-result.ts'
export type { CompiledTemplate, TemplatePromptOptions } from './template-prompt.ts'
export { compileTemplate, templatePrompt } from './template-prompt.ts'
