// A batch run for the kill -9 test: `node pipeline-kill-batch.ts URL OUTPUT COUNT fresh|resume REQUEST_LOG`.
// Resumes from OUTPUT when asked, writes one line per record to it, and logs every requested id
// (synchronously, before the request) to REQUEST_LOG, so the test can check no finished id is asked again.
import { appendFileSync } from 'node:fs'
import { OllamaClient } from '../client.ts'
import { jsonlSink } from '../jsonl-sink.ts'
import { runPipeline } from '../pipeline.ts'
import { prepareResume } from '../resume.ts'

const [url, output, countText, mode, requestLog] = process.argv.slice(2)
if (!url || !output || !countText || !mode || !requestLog)
  throw new Error('usage: URL OUTPUT COUNT MODE REQUEST_LOG')
const count = Number(countText)

function* records() {
  for (let index = 1; index <= count; index += 1)
    yield { id: `r${index}`, prompt: `record ${index} [sim:tokens=12]` }
}

const resume = mode === 'resume' ? await prepareResume(output) : undefined
const client = new OllamaClient({ host: url })
const summary = await runPipeline({
  client,
  model: 'llama3.2',
  input: records(),
  total: count,
  concurrency: 3,
  skip: resume?.done,
  plugins: [
    jsonlSink(output, { append: resume !== undefined }),
    { name: 'request-log', recordStart: (event) => appendFileSync(requestLog, `${event.recordId}\n`) },
  ],
})
await client.close()
process.stdout.write(`${JSON.stringify(summary)}\n`)
