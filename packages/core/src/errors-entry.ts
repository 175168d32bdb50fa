// The entry `@spout/core/errors`: every error class and code, with no other import, so a program can
// recognise (and extend) Spout's errors without loading the client. The main entry exports the ones a caller usually catches.

export type { FormatFailure, SpoutErrorCode, TimeoutPhase } from './errors.ts'
export {
  ConnectionError,
  FormatError,
  HostError,
  HostPoolError,
  HttpError,
  IncompleteStreamError,
  ParseError,
  PipelineError,
  PluginError,
  RecordError,
  ResumeError,
  SpoutError,
  StageError,
  StreamError,
  TemplateFieldError,
  TimeoutError,
} from './errors.ts'
