import { readFileSync } from 'node:fs'

/** The package version, read once; it goes into User-Agent and build_info. */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
