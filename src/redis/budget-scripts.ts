import type { Result } from 'ioredis'
import type { RedisClient } from './client-factory.js'

/**
 * Lua run atomically by Redis, so replicas never both take the last slot. The same sliding-window-log
 * decision as src/limits/window.ts, on sorted sets scored by Redis's own clock (replica clocks may disagree).
 * KEYS: tenant log, hold, client log. ARGV: member, tenant windows (n, then ms/limit pairs), client windows.
 * Returns {waitMs, cause}: cause 0 none, 1 hold, 2 tenant, 3 client.
 */
export const TAKE_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function wait_for(key, pos)
  local n = tonumber(ARGV[pos])
  local wait, longest = 0, 0
  for i = 0, n - 1 do
    local ms = tonumber(ARGV[pos + 1 + 2 * i])
    local limit = tonumber(ARGV[pos + 2 + 2 * i])
    if ms > longest then longest = ms end
    local since = '(' .. string.format('%d', now - ms)
    local inside = redis.call('ZCOUNT', key, since, '+inf')
    if inside >= limit then
      local r = redis.call('ZRANGEBYSCORE', key, since, '+inf', 'WITHSCORES', 'LIMIT', inside - limit, 1)
      local w = tonumber(r[2]) + ms - now
      if w > wait then wait = w end
    end
  end
  if longest > 0 then redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%d', now - longest)) end
  return wait, longest, pos + 1 + 2 * n
end
local hold = tonumber(redis.call('GET', KEYS[2]) or '0')
local tw, tlong, nextpos = wait_for(KEYS[1], 2)
local cw, clong = wait_for(KEYS[3], nextpos)
local wait, cause = 0, 0
if hold - now > wait then wait, cause = hold - now, 1 end
if tw > wait then wait, cause = tw, 2 end
if cw > wait then wait, cause = cw, 3 end
if wait > 0 then return {wait, cause} end
if tlong > 0 then
  redis.call('ZADD', KEYS[1], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[1], tlong)
end
if clong > 0 then
  redis.call('ZADD', KEYS[3], now, ARGV[1])
  redis.call('PEXPIRE', KEYS[3], clong)
end
return {0, 0}
`

/** KEYS: hold. ARGV: ms. Extends (never shortens) a hold to Redis-now + ms. */
export const HOLD_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ms = tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if now + ms > current then redis.call('SET', KEYS[1], string.format('%d', now + ms), 'PX', ms) end
return 0
`

/**
 * KEYS: tenant log, client log. ARGV: member, when it was allowed (epoch ms), tenant and client longest
 * window (ms, 0: none). Adds a call a replica allowed on local state to the shared logs, if still inside
 * their windows, so it counts for every replica from now on.
 */
export const RECORD_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = math.min(tonumber(ARGV[2]), now)
local function add(key, longest)
  if longest <= 0 or at <= now - longest then return end
  redis.call('ZADD', key, at, ARGV[1])
  local ttl = at + longest - now
  if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, ttl) end
end
add(KEYS[1], tonumber(ARGV[3]))
add(KEYS[2], tonumber(ARGV[4]))
return 0
`

declare module 'ioredis' {
  interface RedisCommander<Context> {
    dgwTake (tenantLog: string, hold: string, clientLog: string, ...args: Array<string | number>): Result<[number, number], Context>
    dgwHold (hold: string, ms: number): Result<number, Context>
    dgwRecord (tenantLog: string, clientLog: string, member: string, at: number, tenantMs: number, clientMs: number): Result<number, Context>
  }
}

/** Registers the scripts on a connection (ioredis sends EVALSHA and reloads them after a restart). */
export function defineBudgetScripts (client: RedisClient): void {
  client.defineCommand('dgwTake', { numberOfKeys: 3, lua: TAKE_LUA })
  client.defineCommand('dgwHold', { numberOfKeys: 1, lua: HOLD_LUA })
  client.defineCommand('dgwRecord', { numberOfKeys: 2, lua: RECORD_LUA })
}
