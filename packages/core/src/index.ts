// @spout/core: the Ollama streaming client, the event model and the pipeline.
// Each area adds its exports by name; no `export *`.

// Backends: the seam the pipeline generates through, the Ollama client and the OpenAI-compatible one
export type { Backend, BackendCallOptions, BackendCapacity, BackendKind, BackendRoute } from './backend.ts'
export type { OllamaClientOptions } from './client.ts'
export { OllamaClient } from './client.ts'
// Errors (client, NDJSON decoder, plugins)
export type { FormatFailure, SpoutErrorCode, TimeoutPhase } from './errors.ts'
export {
  ConnectionError,
  FormatError,
  HostError,
  HostPoolError,
  HttpError,
  IncompleteStreamError,
  ParseError,
  PipelineError,
  PluginError,
  ResumeError,
  SpoutError,
  StreamError,
  TemplateFieldError,
  TimeoutError,
} from './errors.ts'
export { recordEndEvent } from './event-builders.ts'
// Pipeline and plugin SDK
export type { EventSinkOptions } from './event-sink.ts'
export { eventSink } from './event-sink.ts'
// Event model (also available browser-safe from `@spout/core/events`, which alone carries the zod
// validator `parseEvent`: a program that only runs batches does not load zod)
export type {
  ChunkEvent,
  EventError,
  EventMessage,
  HostReport,
  JobEndEvent,
  JobStartEvent,
  JobSummary,
  RecordEndEvent,
  RecordMetrics,
  RecordStartEvent,
  SpoutEvent,
  SpoutEventType,
} from './events.ts'
export { eventTypes } from './events.ts'
export type { ResolvedHost } from './host.ts'
export { defaultHost, parseHost, resolveHost } from './host.ts'
export type { HostInspector } from './host-inspector.ts'
export type { HostPoolMember, HostPoolOptions } from './host-pool.ts'
export { HostPool } from './host-pool.ts'
export type { JsonlSinkOptions } from './jsonl-sink.ts'
export { jsonlSink } from './jsonl-sink.ts'
export type { LearnedConcurrencyOptions } from './learned-concurrency.ts'
export type { OpenAIClientOptions, OpenAIModelList } from './openai-client.ts'
export { OpenAIClient } from './openai-client.ts'
export { runPipeline } from './pipeline.ts'
export type { PipelineClient, PipelineOptions, RequestDefaults } from './pipeline-options.ts'
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
export type { ModelDigest } from './provenance.ts'
export { digestTable } from './provenance.ts'
export { recordId } from './record-request.ts'
export type { RetryDelay } from './record-retry.ts'
export type { HeadersInput, RequestOptions } from './request-call.ts'
export type { RetryOptions } from './request-retry.ts'
export { defaultRetry } from './request-retry.ts'
export { ResponseStream } from './response-stream.ts'
export type { ResumeState } from './resume.ts'
export { prepareResume } from './resume.ts'
export type { SseEvent, SseOptions } from './sse.ts'
export { decodeSse, SseDecoderStream, SseParser } from './sse.ts'
export type { StageSplit } from './stage-split.ts'
export { StageError } from './stage-split.ts'
export type { StageLine } from './stage-state.ts'
export type { StageDefinition, StagedLine, StageRecord, StagesOptions } from './stages.ts'
export { runStages } from './stages.ts'
export { systemPrompt } from './system-prompt.ts'
export type { CompiledTemplate, TemplatePromptOptions } from './template-prompt.ts'
export { compileTemplate, templatePrompt } from './template-prompt.ts'
export type { Timeouts } from './transport.ts'
export { defaultTimeouts } from './transport.ts'
export type {
  ChatRequest,
  ChatResponse,
  DoneReason,
  EmbedRequest,
  EmbedResponse,
  Format,
  GenerateRequest,
  GenerateResponse,
  ImageInput,
  JsonSchema,
  KeepAlive,
  ListResponse,
  Logprob,
  Message,
  Metrics,
  ModelDetails,
  ModelResponse,
  Options,
  ProgressResponse,
  PsResponse,
  PullRequest,
  ResponseMessage,
  Role,
  RunningModel,
  ShowRequest,
  ShowResponse,
  Think,
  ThinkLevel,
  TokenLogprob,
  Tool,
  ToolCall,
  ToolProperty,
  VersionResponse,
} from './types.ts'
