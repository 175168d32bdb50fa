import { packageConfig } from '../../tsup.base.ts'

export default packageConfig([
  'src/index.ts',
  'src/events-entry.ts',
  'src/errors-entry.ts',
  'src/ndjson-entry.ts',
  'src/ollama-entry.ts',
  'src/backend-entry.ts',
  'src/plugin-entry.ts',
])
