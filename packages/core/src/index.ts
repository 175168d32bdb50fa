// @spout/core: the clients (Ollama, OpenAI-compatible, a pool), the pipeline and its plugins, staged
// runs, and the errors a caller catches. At most 60 names (index.test.ts lists them: growing it is a
// choice). The rest has a purposeful entry of its own:
//   @spout/core/ollama   the Ollama API's request and response types
//   @spout/core/events   the event model, its schema, the reducer and the hub protocol (browser-safe)
//   @spout/core/errors   every error class and code, without the client
//   @spout/core/backend  what a backend is built from: transport, retry, SSE, hosts
//   @spout/core/plugin   the plugin SDK in full: hook kinds and their types, compiled templates
//   @spout/core/ndjson   the NDJSON decoder and the byte-parser base it shares
// Each area adds its exports by name; no `export *`.

// Backends: the seam the pipeline generates through, the Ollama client and the OpenAI-compatible one
export type { Backend, BackendCallOptions, BackendCapacity, BackendKind, BackendRoute } from './backend.ts'
export type { OllamaClientOptions } from './client.ts'
export { OllamaClient } from './client.ts'
// The errors a caller catches (every other one: @spout/core/errors)
export type { SpoutErrorCode } from './errors.ts'
export { ConnectionError, HostError, HttpError, PluginError, SpoutError, TimeoutError } from './errors.ts'
// Pipeline and plugin SDK
export type { EventSinkOptions } from './event-sink.ts'
export { eventSink } from './event-sink.ts'
// Event model (also available browser-safe from `@spout/core/events`, which alone carries the zod
// validator `parseEvent`: a program that only runs batches does not load zod)
export type { EventError, HostReport, JobSummary, SpoutEvent } from './events.ts'
export type { ResolvedHost } from './host.ts'
export { resolveHost } from './host.ts'
export type { HostPoolMember, HostPoolOptions } from './host-pool.ts'
export { HostPool } from './host-pool.ts'
export type { JsonlSinkOptions } from './jsonl-sink.ts'
export { jsonlSink } from './jsonl-sink.ts'
export type { OpenAIClientOptions } from './openai-client.ts'
export { OpenAIClient } from './openai-client.ts'
export { runPipeline } from './pipeline.ts'
export type { PipelineClient, PipelineOptions, RequestDefaults } from './pipeline-options.ts'
export type {
  InputRecord,
  JobControl,
  PipelineRequest,
  PluginContext,
  PluginJob,
  PluginLogger,
  PluginOption,
  RecordResult,
  SpoutPlugin,
} from './plugin.ts'
export { definePlugin } from './plugin.ts'
export type { ModelDigest } from './provenance.ts'
export { digestTable } from './provenance.ts'
export { recordId } from './record-request.ts'
export type { RetryDelay } from './record-retry.ts'
export type { RequestOptions } from './request-call.ts'
export type { ResumeState } from './resume.ts'
export { prepareResume } from './resume.ts'
export type { StageLine } from './stage-state.ts'
export type { StageDefinition, StagedLine, StageRecord, StagesOptions } from './stages.ts'
export { runStages } from './stages.ts'
export { systemPrompt } from './system-prompt.ts'
export type { TemplatePromptOptions } from './template-prompt.ts'
export { templatePrompt } from './template-prompt.ts'
export type { Timeouts } from './transport.ts'
