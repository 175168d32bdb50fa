// The OpenAI-compatible backend for `--api openai` (vLLM, llama.cpp's server, SGLang, LM Studio, TGI,
// Ollama's `/v1`), or for a `--host` that ends in `/v1`.

import type { OpenAIClient } from '@spout/core'
import { CliError } from './cli-error.ts'
import type { ConnectionOptions } from './connection.ts'

/** `--api openai`, or no API named and a host whose path ends in `/v1`. */
export function usesOpenAI(api: string | undefined, host: string | undefined): boolean {
  if (api !== undefined) return api === 'openai'
  return host !== undefined && /\/v1\/*$/.test(host.trim().replace(/^["']+|["']+$/g, ''))
}

export interface OpenAIClientFlags {
  host?: string
  apiKey?: string
}

/**
 * The client: `--host`, then the config's `host`, then `OPENAI_BASE_URL`, then Ollama's own `/v1`;
 * the key from `--api-key`, then `OPENAI_API_KEY`.
 */
export async function createOpenAIClient(
  flags: OpenAIClientFlags,
  configuredHost: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  connection: ConnectionOptions = {},
): Promise<OpenAIClient> {
  // Loaded when a command runs: `spout --help` does not pay for undici.
  const { HostError, OpenAIClient } = await import('@spout/core')
  const host = flags.host ?? configuredHost ?? env.OPENAI_BASE_URL ?? openAIHostOf(env.OLLAMA_HOST)
  const apiKey = flags.apiKey ?? env.OPENAI_API_KEY
  try {
    return new OpenAIClient({ host, ...connection, ...(apiKey ? { apiKey } : {}) })
  } catch (error) {
    if (error instanceof HostError) throw new CliError(error.message, { cause: error })
    throw error
  }
}

/** Ollama's `/v1` on `OLLAMA_HOST` (or the default address). */
function openAIHostOf(ollamaHost: string | undefined): string {
  const base = ollamaHost && ollamaHost.trim() !== '' ? ollamaHost.trim() : 'http://127.0.0.1:11434'
  return `${base.replace(/\/+$/, '')}/v1`
}
