// Ollama's HTTP API as TypeScript types: every documented field of the requests and responses the
// client speaks. Field names are Ollama's own (snake_case), so objects go on the wire unchanged.

/** `think`: on/off, or a level for models that support levels (gpt-oss maps `max` to `high`). */
export type ThinkLevel = 'low' | 'medium' | 'high' | 'max'
export type Think = boolean | ThinkLevel

/** A JSON Schema object for structured outputs. */
export type JsonSchema = { [key: string]: unknown }

/** `"json"` for JSON mode, or a JSON Schema the output must follow. */
export type Format = 'json' | JsonSchema

/** How long the model stays loaded: a Go duration string (`"5m"`, `"1h30m"`) or seconds; negative = forever, 0 = unload now. */
export type KeepAlive = string | number

/** An image: base64 text as Ollama expects, or raw bytes (the client base64-encodes a copy). */
export type ImageInput = string | Uint8Array

/** Model parameters (Modelfile `PARAMETER`s) accepted in `options`. */
export interface Options {
  // Load-time options
  numa?: boolean
  num_ctx?: number
  num_batch?: number
  num_gpu?: number
  main_gpu?: number
  use_mmap?: boolean
  num_thread?: number
  // Sampling and generation options
  num_keep?: number
  seed?: number
  num_predict?: number
  top_k?: number
  top_p?: number
  min_p?: number
  typical_p?: number
  repeat_last_n?: number
  temperature?: number
  repeat_penalty?: number
  presence_penalty?: number
  frequency_penalty?: number
  stop?: string[]
}

/** Timing and token counts, on the final object of a generation (each omitted by the server when 0). */
export interface Metrics {
  /** Nanoseconds spent on the whole request. */
  total_duration?: number
  /** Nanoseconds spent loading the model. */
  load_duration?: number
  prompt_eval_count?: number
  /** Nanoseconds. */
  prompt_eval_duration?: number
  eval_count?: number
  /** Nanoseconds. */
  eval_duration?: number
}

/** Why a generation ended: `stop` (natural end or stop sequence), `length` (`num_predict`), `load`, `unload`. */
export type DoneReason = 'stop' | 'length' | 'load' | 'unload' | (string & {})

export interface TokenLogprob {
  token: string
  logprob: number
  /** The token's UTF-8 bytes. */
  bytes?: number[]
}

export interface Logprob extends TokenLogprob {
  top_logprobs?: TokenLogprob[]
}

export interface ToolCall {
  /** e.g. `call_k3v9x0aa` (recent servers). */
  id?: string
  function: {
    index?: number
    name: string
    arguments: { [key: string]: unknown }
  }
}

export interface ToolProperty {
  type?: string | string[]
  description?: string
  enum?: unknown[]
  items?: unknown
  [key: string]: unknown
}

export interface Tool {
  type: 'function'
  function: {
    name: string
    description?: string
    parameters?: {
      type: string
      $defs?: unknown
      items?: unknown
      required?: string[]
      properties?: { [name: string]: ToolProperty }
    }
  }
}

export type Role = 'system' | 'user' | 'assistant' | 'tool'

export interface Message {
  role: Role | (string & {})
  content: string
  thinking?: string
  images?: ImageInput[]
  tool_calls?: ToolCall[]
  /** For `role: "tool"`: the name of the tool that produced this result. */
  tool_name?: string
  tool_call_id?: string
}

/** The message in a chat response (images always come back as base64 strings, if at all). */
export interface ResponseMessage extends Omit<Message, 'images'> {
  images?: string[]
}

interface GenerationFields {
  model: string
  /** `false` for one aggregated object instead of a stream. Default `true`. */
  stream?: boolean
  format?: Format
  keep_alive?: KeepAlive
  options?: Options
  think?: Think
  /** Truncate the history to fit the context (default `true`). */
  truncate?: boolean
  /** Shift the context instead of failing when it is full (default `true`). */
  shift?: boolean
  logprobs?: boolean
  /** 0 to 20. */
  top_logprobs?: number
}

export interface GenerateRequest extends GenerationFields {
  prompt?: string
  /** Text after the insertion point (fill-in-the-middle models). */
  suffix?: string
  /** Overrides the Modelfile's system prompt. */
  system?: string
  /** Overrides the Modelfile's prompt template. */
  template?: string
  /** Deprecated by Ollama: the `context` of a previous response. */
  context?: number[]
  /** Send the prompt without templating (not with `template`, `system` or `context`). */
  raw?: boolean
  images?: ImageInput[]
}

export interface GenerateResponse extends Metrics {
  model: string
  created_at: string
  /** The text of this chunk (`""` on the final object and on thinking-only chunks). */
  response: string
  thinking?: string
  done: boolean
  done_reason?: DoneReason
  /** Final object, unless `raw`. */
  context?: number[]
  tool_calls?: ToolCall[]
  logprobs?: Logprob[]
  remote_model?: string
  remote_host?: string
}

export interface ChatRequest extends GenerationFields {
  messages?: Message[]
  tools?: Tool[]
}

export interface ChatResponse extends Metrics {
  model: string
  created_at: string
  message: ResponseMessage
  done: boolean
  done_reason?: DoneReason
  logprobs?: Logprob[]
  remote_model?: string
  remote_host?: string
}

export interface PullRequest {
  model: string
  insecure?: boolean
  stream?: boolean
}

/** A progress line of `pull`: `pulling manifest`, `pulling <digest>` (with sizes), …, `success`. */
export interface ProgressResponse {
  status: string
  digest?: string
  total?: number
  completed?: number
}

export interface ModelDetails {
  parent_model: string
  format: string
  family: string
  families: string[] | null
  parameter_size: string
  quantization_level: string
  context_length?: number
  embedding_length?: number
}

export interface ModelResponse {
  name: string
  model: string
  modified_at: string
  size: number
  digest: string
  details: ModelDetails
  capabilities?: string[]
  remote_model?: string
  remote_host?: string
}

export interface ListResponse {
  models: ModelResponse[]
}

export interface ShowRequest {
  model: string
  /** Include large `model_info` arrays (tokenizer tokens…). */
  verbose?: boolean
  system?: string
  options?: Options
}

export interface ShowResponse {
  license?: string
  modelfile?: string
  parameters?: string
  template?: string
  system?: string
  renderer?: string
  parser?: string
  details: ModelDetails
  messages?: Message[]
  model_info?: { [key: string]: unknown }
  projector_info?: { [key: string]: unknown }
  tensors?: { name: string; type: string; shape: number[] }[]
  /** `completion`, `tools`, `insert`, `vision`, `embedding`, `thinking`, … */
  capabilities?: string[]
  modified_at?: string
  requires?: string
  remote_model?: string
  remote_host?: string
}

export interface RunningModel {
  name: string
  model: string
  size: number
  digest: string
  details: ModelDetails
  expires_at: string
  size_vram: number
  context_length?: number
}

export interface PsResponse {
  models: RunningModel[]
}

export interface VersionResponse {
  version: string
}

export interface EmbedRequest {
  model: string
  input: string | string[]
  /** Truncate inputs longer than the context (default `true`). */
  truncate?: boolean
  dimensions?: number
  keep_alive?: KeepAlive
  options?: Options
}

export interface EmbedResponse {
  model: string
  embeddings: number[][]
  total_duration?: number
  load_duration?: number
  prompt_eval_count?: number
}
