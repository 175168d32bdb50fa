// A prompt builder: asks for short answers and records which records were rewritten.
//   spout run questions.jsonl -m llama3.2 -o answers.jsonl --plugin ./examples/plugins/answer-briefly.js
//
// The default export is a factory (called with no arguments by --plugin); it returns a plugin.

/** @returns {import('@spout/core').SpoutPlugin} */
export default function answerBriefly() {
  return {
    name: 'answer-briefly',
    buildPrompt(request) {
      // Generate requests carry `prompt`; chat requests carry `messages` (left alone here).
      if (typeof request.prompt !== 'string') return undefined
      return { ...request, system: 'Answer in one sentence.', prompt: `${request.prompt.trim()} (briefly)` }
    },
  }
}
