// The main entry's names, listed: adding one is a deliberate change to this list (at most 60: the
// rest goes to a purposeful subpath entry, see the head of index.ts).
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import * as core from './index.ts'

const values = [
  'ConnectionError',
  'HostError',
  'HostPool',
  'HttpError',
  'OllamaClient',
  'OpenAIClient',
  'PluginError',
  'SpoutError',
  'TimeoutError',
  'definePlugin',
  'digestTable',
  'eventSink',
  'jsonlSink',
  'prepareResume',
  'recordId',
  'resolveHost',
  'runPipeline',
  'runStages',
  'systemPrompt',
  'templatePrompt',
]

const types = [
  'Backend',
  'BackendCallOptions',
  'BackendCapacity',
  'BackendKind',
  'BackendRoute',
  'EventError',
  'EventSinkOptions',
  'HostPoolMember',
  'HostPoolOptions',
  'HostReport',
  'InputRecord',
  'JobControl',
  'JobSummary',
  'JsonlSinkOptions',
  'ModelDigest',
  'OllamaClientOptions',
  'OpenAIClientOptions',
  'PipelineClient',
  'PipelineOptions',
  'PipelineRequest',
  'PluginContext',
  'PluginJob',
  'PluginLogger',
  'PluginOption',
  'RecordResult',
  'RequestDefaults',
  'RequestOptions',
  'ResolvedHost',
  'ResumeState',
  'RetryDelay',
  'SpoutErrorCode',
  'SpoutEvent',
  'SpoutPlugin',
  'StageDefinition',
  'StageLine',
  'StageRecord',
  'StagedLine',
  'StagesOptions',
  'TemplatePromptOptions',
  'Timeouts',
]

/** Every name `index.ts` exports, types included, read from its source. */
function exportedNames(): { values: string[]; types: string[] } {
  const source = readFileSync(new URL('./index.ts', import.meta.url), 'utf8')
  const found = { values: [] as string[], types: [] as string[] }
  for (const match of source.matchAll(/export (type )?\{([^}]*)\} from/g)) {
    for (const name of match[2]!.split(',').map((part) => part.trim())) {
      if (name === '') continue
      if (match[1] || name.startsWith('type ')) found.types.push(name.replace(/^type /, ''))
      else found.values.push(name)
    }
  }
  return found
}

describe('@spout/core main entry', () => {
  it('exports exactly the listed names, at most 60', () => {
    const found = exportedNames()
    expect(found.values.sort()).toEqual([...values].sort())
    expect(found.types.sort()).toEqual([...types].sort())
    expect(values.length + types.length).toBeLessThanOrEqual(60)
  })

  it('has every listed value at run time, and nothing else', () => {
    expect(Object.keys(core).sort()).toEqual([...values].sort())
  })
})
