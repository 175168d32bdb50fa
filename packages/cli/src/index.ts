// @spout/cli: the `spout` command. The library surface is what a config file needs.
export type { SpoutConfig, SpoutConfigInput } from './config.ts'
export { defineConfig } from './config.ts'
export type { StageConfig } from './stage-config.ts'
