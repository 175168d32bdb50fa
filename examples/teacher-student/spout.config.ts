// Teacher → student → judge as one pipelined run:
//   spout run --config examples/teacher-student/spout.config.ts
// The teacher writes three questions per topic (JSON, split into one record each: `<topic>.q1` …),
// the student answers each as soon as it exists, the judge grades each answer as soon as it exists.
// Answers the judge scores below 5 are kept in the output with `filtered` and the reason.
// Models: SPOUT_TEACHER_MODEL, SPOUT_STUDENT_MODEL, SPOUT_JUDGE_MODEL (defaults below).
import { readFileSync } from 'node:fs'
import type { SpoutConfig } from '@spout/cli'

const text = (file: string) => readFileSync(new URL(file, import.meta.url), 'utf8').trim()
const env = process.env

export default {
  input: 'topics.jsonl',
  output: '../../demo-output/teacher-student.jsonl',
  concurrency: 4,
  stages: [
    {
      name: 'teacher',
      model: env.SPOUT_TEACHER_MODEL ?? 'llama3.2',
      system: text('./teacher.system.txt'),
      template: 'Write three exam questions for a {{input.level}} student about {{input.topic}}.',
      format: {
        type: 'object',
        properties: { questions: { type: 'array', items: { type: 'string' } } },
        required: ['questions'],
      },
      split: 'json-array',
      childPrefix: 'q',
    },
    {
      name: 'student',
      model: env.SPOUT_STUDENT_MODEL ?? 'qwen3',
      system: text('./student.system.txt'),
      template: '{{item}}',
    },
    {
      name: 'judge',
      model: env.SPOUT_JUDGE_MODEL ?? 'llama3.2',
      system: text('./judge.system.txt'),
      template: 'Question: {{item}}\n\nAnswer: {{student.response}}',
      format: {
        type: 'object',
        properties: { score: { type: 'integer' }, reason: { type: 'string' } },
        required: ['score', 'reason'],
      },
      filter: (record) => {
        const { score } = (record.judge as { parsed: { score: number } }).parsed
        return score < 5 ? `judge score ${score} < 5` : undefined
      },
    },
  ],
} satisfies SpoutConfig
