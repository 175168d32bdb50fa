// One generation on one sequence: checks that the templated prompt fits the context, streams text
// and thought chunks through `emit`, and measures what the final object reports.

import type { DoneReason } from '@spout/core/ollama'
import {
  type ChatHistoryItem,
  type ChatWrapper,
  LlamaChat,
  type LlamaChatResponseChunk,
  LlamaCompletion,
  type LlamaContextSequence,
  type LlamaGrammar,
} from 'node-llama-cpp'
import { ContextTooSmallError } from './errors.ts'
import type { Sampling } from './sampling.ts'

/** One sequence of the context, with the chat and completion drivers made for it once. */
export class Slot {
  readonly sequence: LlamaContextSequence
  /** The chat template's wrapper, resolved once per model: resolving renders the template (~0.5 s). */
  readonly #chatWrapper: () => ChatWrapper
  #chat: LlamaChat | undefined
  #completion: LlamaCompletion | undefined

  constructor(sequence: LlamaContextSequence, chatWrapper: () => ChatWrapper) {
    this.sequence = sequence
    this.#chatWrapper = chatWrapper
  }

  get chat(): LlamaChat {
    this.#chat ??= new LlamaChat({ contextSequence: this.sequence, chatWrapper: this.#chatWrapper() })
    return this.#chat
  }

  get completion(): LlamaCompletion {
    this.#completion ??= new LlamaCompletion({ contextSequence: this.sequence })
    return this.#completion
  }
}

export interface GenerationInput {
  slot: Slot
  /** The model file, for error messages. */
  path: string
  /** A chat history ending with the model turn to generate, or a raw prompt (no template). */
  prompt: ChatHistoryItem[] | string
  sampling: Sampling
  grammar?: LlamaGrammar
  /** `false`: no thinking (a zero thought budget). */
  think: boolean
  signal: AbortSignal
  emit: (text: string, thought: boolean) => void
}

export interface GenerationResult {
  doneReason: DoneReason
  promptTokens: number
  evalCount: number
  /** Nanoseconds from the start to the first generated token. */
  promptEvalDuration: number
  /** Nanoseconds from the first generated token to the end. */
  evalDuration: number
}

function promptTokensOf(slot: Slot, prompt: ChatHistoryItem[] | string): number {
  const tokenizer = slot.sequence.model.tokenizer
  if (typeof prompt === 'string') return tokenizer(prompt, false).length + 1
  const state = slot.chat.chatWrapper.generateContextState({ chatHistory: prompt })
  return state.contextText.tokenize(tokenizer).length
}

const doneReasons = {
  eogToken: 'stop',
  stopGenerationTrigger: 'stop',
  customStopTrigger: 'stop',
  functionCalls: 'stop',
  maxTokens: 'length',
  abort: 'abort',
} as const satisfies Record<string, DoneReason>

export async function generate(input: GenerationInput): Promise<GenerationResult> {
  const { slot, prompt, sampling } = input
  const contextSize = slot.sequence.contextSize
  const promptTokens = promptTokensOf(slot, prompt)
  if (promptTokens >= contextSize) {
    throw new ContextTooSmallError({ path: input.path, promptTokens, contextSize })
  }
  // Never past the context: the context does not shift, the generation ends with `length`.
  const room = contextSize - promptTokens
  const { maxTokens: asked, ...rest } = sampling
  const maxTokens = Math.min(asked ?? room, room)

  const started = process.hrtime.bigint()
  let firstToken: bigint | undefined
  const meter = slot.sequence.tokenMeter.getState()
  const onTokens = (count: number) => {
    if (count > 0) firstToken ??= process.hrtime.bigint()
  }
  const options = { ...rest, maxTokens, signal: input.signal, grammar: input.grammar }
  let stopReason: keyof typeof doneReasons
  if (typeof prompt === 'string') {
    const response = await slot.completion.generateCompletionWithMeta(prompt, {
      ...options,
      onToken: (tokens) => onTokens(tokens.length),
      onTextChunk: (text) => input.emit(text, false),
    })
    stopReason = response.metadata.stopReason
  } else {
    const response = await slot.chat.generateResponse(prompt, {
      ...options,
      budgets: input.think ? undefined : { thoughtTokens: 0 },
      onResponseChunk: (chunk: LlamaChatResponseChunk) => {
        onTokens(chunk.tokens.length)
        if (chunk.text !== '')
          input.emit(chunk.text, chunk.type === 'segment' && chunk.segmentType === 'thought')
      },
    })
    stopReason = response.metadata.stopReason
  }
  const ended = process.hrtime.bigint()
  const first = firstToken ?? ended
  return {
    doneReason: doneReasons[stopReason],
    promptTokens,
    evalCount: slot.sequence.tokenMeter.diff(meter).usedOutputTokens,
    promptEvalDuration: Number(first - started),
    evalDuration: Number(ended - first),
  }
}
