import type { ParsedConfig } from './schema.js'

/**
 * Cross-checks of the `redis` section a schema cannot say: exactly one topology, TLS said once, no
 * credentials in a URL, and the token key that encrypts tokens at rest.
 */
export function checkRedis (redis: ParsedConfig['redis']): string[] {
  if (redis === undefined) return []
  const problems: string[] = []
  const given = [redis.url, redis.sentinel, redis.cluster].filter((v) => v !== undefined).length
  if (given !== 1) {
    problems.push('redis: set exactly one of url (one node), sentinel (nodes + primaryName) or cluster (nodes)')
  }
  if (redis.url !== undefined) {
    const parsed = new URL(redis.url)
    if (parsed.password !== '') problems.push('redis.url: must not contain a password; use redis.password: {fromEnv: NAME} or {fromFile: PATH}')
    else if (parsed.username !== '') problems.push('redis.url: must not contain a user name; use redis.username')
    if (redis.tls !== undefined) problems.push('redis.tls: only with sentinel or cluster; a url turns TLS on with rediss://')
  }
  if (redis.tokenKey === undefined) {
    problems.push('redis.tokenKey: required with redis (tokens are encrypted at rest); e.g. {fromEnv: GATEWAY_REDIS_TOKEN_KEY} holding `openssl rand -base64 32`')
  }
  return problems
}
