import { describe, expect, it } from 'vitest'
import { TemplateFieldError } from './errors.ts'
import type { PipelineRequest, PluginContext } from './plugin.ts'
import { systemPrompt } from './system-prompt.ts'
import { compileTemplate, templatePrompt } from './template-prompt.ts'

const context = {} as PluginContext
const generate: PipelineRequest = { model: 'llama3.2' }

function build(
  plugin: ReturnType<typeof templatePrompt>,
  request: PipelineRequest,
  record: Record<string, unknown>,
) {
  const hook = plugin.buildPrompt as (
    request: PipelineRequest,
    record: unknown,
    context: PluginContext,
  ) => PipelineRequest
  return hook(request, record, context)
}

describe('compileTemplate', () => {
  it('fills fields and nested paths; numbers, booleans and objects become text', () => {
    const template = compileTemplate('Q: {{question}} ({{ meta.level }}, {{n}}, {{flag}}) {{tags}}')
    expect(template.fields).toEqual(['question', 'meta.level', 'n', 'flag', 'tags'])
    expect(
      template.render({ question: 'Why?', meta: { level: 'hard' }, n: 3, flag: false, tags: ['a', 'b'] }),
    ).toBe('Q: Why? (hard, 3, false) ["a","b"]')
  })

  it('leaves text without placeholders alone, and unicode intact', () => {
    expect(compileTemplate('plain { text } 🌊').render({})).toBe('plain { text } 🌊')
    expect(compileTemplate('{{a}}{{b}}').render({ a: 'é', b: '🌊' })).toBe('é🌊')
  })

  it('throws a clear error for a missing field instead of writing "undefined"', () => {
    const template = compileTemplate('Hello {{user.name}}')
    expect(() => template.render({ user: {} })).toThrow(TemplateFieldError)
    expect(() => template.render({ user: 'bob' })).toThrow(
      "the record has no field 'user.name' (used as {{user.name}})",
    )
    expect(() => template.render({ user: { name: null } })).toThrow(TemplateFieldError)
    try {
      template.render({})
    } catch (error) {
      expect(error).toMatchObject({ code: 'SPOUT_TEMPLATE_FIELD_MISSING', field: 'user.name' })
    }
  })

  it('does not read inherited properties', () => {
    expect(() => compileTemplate('{{constructor}}').render({})).toThrow(TemplateFieldError)
  })
})

describe('templatePrompt', () => {
  it('sets prompt and system for generate requests', () => {
    const plugin = templatePrompt({ template: 'Answer: {{q}}', system: 'You teach {{topic}}.' })
    expect(plugin.name).toBe('template-prompt')
    expect(build(plugin, generate, { q: '2+2?', topic: 'math' })).toEqual({
      model: 'llama3.2',
      prompt: 'Answer: 2+2?',
      system: 'You teach math.',
    })
  })

  it('appends a user message and sets the system message for chat requests', () => {
    const plugin = templatePrompt({ template: '{{q}}', system: 'Be brief.' })
    const chat: PipelineRequest = {
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'old' },
        { role: 'user', content: 'hi' },
      ],
    }
    expect(build(plugin, chat, { q: 'next?' })).toEqual({
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
        { role: 'user', content: 'next?' },
      ],
    })
  })
})

describe('systemPrompt', () => {
  it('sets the system prompt of generate and chat requests', () => {
    const plugin = systemPrompt('You are terse.')
    const hook = plugin.buildPrompt as (request: PipelineRequest) => PipelineRequest
    expect(hook({ model: 'm', prompt: 'x', system: 'old' })).toEqual({
      model: 'm',
      prompt: 'x',
      system: 'You are terse.',
    })
    expect(hook({ model: 'm', messages: [{ role: 'user', content: 'x' }] })).toEqual({
      model: 'm',
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'x' },
      ],
    })
  })
})
