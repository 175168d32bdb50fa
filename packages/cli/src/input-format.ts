/** The formats `spout run` reads (`--input-format`). Apart from input.ts so that the options need no parser. */
export type InputFormat = 'jsonl' | 'csv' | 'txt'
export const inputFormats: readonly InputFormat[] = ['jsonl', 'csv', 'txt']
