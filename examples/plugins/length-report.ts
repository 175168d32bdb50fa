// A sink written in TypeScript (spout loads it with jiti, no build step): counts response
// lengths and reports them through the plugin logger when the job ends.
//   spout run questions.jsonl -m llama3.2 -o answers.jsonl --plugin ./examples/plugins/length-report.ts
import type { SpoutPlugin } from '@spout/core'

const plugin: SpoutPlugin = (() => {
  let records = 0
  let characters = 0
  let longest = { id: '', length: 0 }
  return {
    name: 'length-report',
    jobStart() {
      records = 0
      characters = 0
      longest = { id: '', length: 0 }
    },
    recordEnd(result) {
      if (result.skipped || result.error) return
      records += 1
      characters += result.response.length
      if (result.response.length > longest.length) longest = { id: result.id, length: result.response.length }
    },
    jobEnd(_summary, context) {
      if (records === 0) return
      const average = Math.round(characters / records)
      context.logger.info(
        `${records} responses, ${average} characters on average, longest ${longest.length} (record ${longest.id})`,
      )
    },
  }
})()

export default plugin
