import type { PipelineRequest, RecordResult } from './plugin.ts'

/** The model's digest as the server reports it (e.g. from `/api/tags`), when known. */
export type ModelDigest = (model: string) => string | undefined

/**
 * Writes how a record was made onto its result: the model options actually sent (`{}` when none),
 * the `format` when one was sent, and the model's digest when the server reported it.
 */
export function recordProvenance(
  result: RecordResult,
  request: PipelineRequest,
  digestOf?: ModelDigest,
): void {
  result.options = { ...request.options }
  if (request.format) result.format = request.format
  const digest = digestOf?.(request.model)
  if (digest !== undefined) result.model_digest = digest
}

/** `llama3.2` and `llama3.2:latest` name the same model; a digest table keys both. */
export function digestTable(models: ReadonlyArray<{ name: string; digest?: string }>): ModelDigest {
  const table = new Map<string, string>()
  for (const { name, digest } of models) {
    if (!digest) continue
    table.set(name, digest)
    if (name.endsWith(':latest')) table.set(name.slice(0, -':latest'.length), digest)
  }
  return (model) => table.get(model) ?? table.get(`${model}:latest`)
}
