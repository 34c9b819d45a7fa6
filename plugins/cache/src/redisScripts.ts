import { createHash } from 'node:crypto';

/** A Lua script run with EVALSHA (falling back to EVAL once after a server restart flushed it). */
export interface RedisScript {
  readonly source: string;
  readonly sha1: string;
}

function script(source: string): RedisScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

/**
 * Stores an entry and indexes it under its tags, atomically, in one round trip.
 * KEYS[1] = entry key, KEYS[2..] = tag keys; ARGV[1] = JSON value, ARGV[2] = TTL in ms.
 *
 * A tag is a sorted set of entry keys scored by their expiry (server time), so members whose entry
 * expired are pruned whenever the tag is written, and the tag itself expires with its longest-lived
 * entry: a tag that keeps being written never grows past its live entries, and one that stops
 * being written disappears.
 */
export const SET_ENTRY = script(`
local ttl = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('SET', KEYS[1], ARGV[1], 'PX', ttl)
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], now + ttl, KEYS[1])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', '(' .. now)
  if redis.call('PTTL', KEYS[i]) < ttl then
    redis.call('PEXPIRE', KEYS[i], ttl)
  end
end
return #KEYS - 1
`);

/**
 * Deletes every entry listed under any of the tags, and the tags, atomically, in one round trip.
 * KEYS = tag keys. Returns the number of entries deleted. Deletes go in chunks: Lua's unpack has a
 * stack limit.
 */
export const INVALIDATE_TAGS = script(`
local removed = 0
for i = 1, #KEYS do
  local members = redis.call('ZRANGE', KEYS[i], 0, -1)
  for first = 1, #members, 500 do
    removed = removed + redis.call('DEL', unpack(members, first, math.min(first + 499, #members)))
  end
  redis.call('DEL', KEYS[i])
end
return removed
`);
