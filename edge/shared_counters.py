"""Rate-limit counters in Redis: every rule and window of one request checked and counted in one round trip.

`limits` asks Redis twice per window (`hit`, then `get_window_stats`; the fixed window three or four times),
each a separate round trip. Here one Lua script, registered on the connection `limits`' own Redis storage
manages, takes all the windows of all the rules that matched a request, and per rule tests every window,
counts the hit in all of them only when all allow it (as `edge.counters` does in memory), and answers each
window's remaining budget and reset. Rules are taken in order and the script stops after the first rule
that refuses, as the gateway stops at the first 429: later rules are neither counted nor reported.

The keys and values are `limits`' own (`LIMITS:` + `RateLimitItem.key_for(rule, key)`; a list of
timestamps newest first for the moving window, a counter with a TTL for the fixed window, `{key}` and
`{key}/-1` counters for the sliding window counter), so a gateway still counting through `limits` shares
the budget with this one. Time is Redis' own (`TIME`): gateways with skewed clocks still count alike.
The script runs atomically, so counts stay exact however many gateways share the Redis.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from typing import Any, TypeGuard

from limits import RateLimitItem
from limits.aio.storage import RedisStorage
from limits.errors import StorageError
from redis.exceptions import NoScriptError

# One window's state, as the script answers it: (allowed, remaining, reset in ms).
WindowReply = tuple[bool, int, int]

CHECK_SCRIPT = """
local strategy = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000

local function fixed_state(w)
  local used = tonumber(redis.call('GET', w.key)) or 0
  local ttl = redis.call('PTTL', w.key)
  w.used, w.reset, w.fresh = used, ttl, ttl < 0  -- -2: no key; -1: a key without expiry (never ours)
  if w.fresh then w.reset = w.expiry * 1000 end
  return used < w.limit
end
local function fixed_count(w)
  redis.call('INCR', w.key)
  if w.fresh then redis.call('PEXPIRE', w.key, w.expiry * 1000) end
  w.used = w.used + 1
end

-- limits' layout: timestamps newest first, at most `limit` of them; old ones are dropped from the tail
-- here (each once: amortized O(1) per hit), so the length is the count in the window.
local function moving_state(w)
  local cutoff = now - w.expiry
  while true do
    local oldest = redis.call('LINDEX', w.key, -1)
    if oldest and tonumber(oldest) < cutoff then redis.call('RPOP', w.key) else break end
  end
  w.used = redis.call('LLEN', w.key)
  local oldest = tonumber(redis.call('LINDEX', w.key, -1) or now)
  w.reset = math.max(0, (oldest + w.expiry - now) * 1000)
  return w.used < w.limit
end
local function moving_count(w)
  redis.call('LPUSH', w.key, string.format('%.6f', now))
  redis.call('LTRIM', w.key, 0, w.limit - 1)
  redis.call('EXPIRE', w.key, w.expiry)
  if w.used == 0 then w.reset = w.expiry * 1000 end
  w.used = w.used + 1
end

-- limits' sliding window counter: the current window's key lives 2 x expiry; once less than one expiry
-- is left it becomes the previous window, weighted by the share of it still in view.
local function sliding_read(w)
  local e = w.expiry * 1000
  w.previous = tonumber(redis.call('GET', w.prev_key)) or 0
  w.previous_ttl = math.max(0, redis.call('PTTL', w.prev_key))
  w.current = tonumber(redis.call('GET', w.key)) or 0
  w.current_ttl = math.max(0, redis.call('PTTL', w.key))
  w.used = math.floor(w.previous * w.previous_ttl / e) + w.current
  local reset = nil
  if w.previous > 0 then reset = w.previous_ttl % (e / w.previous) end
  if w.current > 0 then
    local r = w.current_ttl % e
    if reset == nil or r < reset then reset = r end
  end
  w.reset = reset or 0
end
local function sliding_state(w)
  local e = w.expiry * 1000
  local ttl = redis.call('PTTL', w.key)
  if ttl > 0 and ttl < e then
    redis.call('RENAME', w.key, w.prev_key)
    redis.call('SET', w.key, 0, 'PX', ttl + e)
  end
  sliding_read(w)
  return w.used < w.limit
end
local function sliding_count(w)
  if redis.call('EXISTS', w.key) == 1 then
    redis.call('INCRBY', w.key, 1)
  else
    redis.call('SET', w.key, 1, 'PX', w.expiry * 2000)
  end
  sliding_read(w)
end

local state, count, keys_per_window
if strategy == 'fixed-window' then state, count, keys_per_window = fixed_state, fixed_count, 1
elseif strategy == 'moving-window' then state, count, keys_per_window = moving_state, moving_count, 1
else state, count, keys_per_window = sliding_state, sliding_count, 2 end

local out = {}
local a, k = 3, 1
for _ = 1, tonumber(ARGV[2]) do
  local windows = {}
  local allowed = true
  for i = 1, tonumber(ARGV[a]) do
    local w = {key = KEYS[k], prev_key = KEYS[k + 1], limit = tonumber(ARGV[a + 2 * i - 1]),
               expiry = tonumber(ARGV[a + 2 * i])}
    k = k + keys_per_window
    w.ok = state(w)
    allowed = allowed and w.ok
    windows[i] = w
  end
  a = a + 1 + 2 * #windows
  for _, w in ipairs(windows) do
    if allowed then count(w) end
    out[#out + 1] = w.ok and 1 or 0
    out[#out + 1] = math.max(0, w.limit - w.used)
    out[#out + 1] = math.floor(w.reset)
  end
  if not allowed then break end
end
return out
"""


def supports(storage: object) -> TypeGuard[RedisStorage]:
    """True for a single Redis (or a Sentinel's primary) through redis-py or valkey-py: one script may touch
    all the keys. A Redis Cluster spreads a request's keys over slots, and other storages have no scripts:
    they go through `limits`' strategies."""
    return (
        isinstance(storage, RedisStorage)
        and storage.MODE != "CLUSTER"
        and type(storage.bridge).__name__ in ("RedispyBridge", "ValkeyBridge")
    )


Pending = tuple[list[str], list[str | int], "asyncio.Future[list[int]]"]


class SharedCounters:
    """The counters of one strategy in the Redis behind a `limits` RedisStorage (redis-py's client).

    Checks are pipelined: the checks that arrive while a pipeline is in flight go out together as the next
    one, as soon as it returns (one write and one read for all of them, however many requests wait). With
    one request at a time, each check is its own round trip at once.
    """

    def __init__(self, storage: RedisStorage, strategy: str, *, timeout: float) -> None:
        self.strategy = strategy
        self.sliding = strategy == "sliding-window-counter"
        self.timeout = timeout
        self.prefix = storage.bridge.key_prefix + ":"
        self.errors: tuple[type[Exception], ...] = (*_as_tuple(storage.base_exceptions), TimeoutError)
        self.connection: Any = storage.bridge.get_connection()  # type: ignore[attr-defined]
        self.sha = hashlib.sha1(CHECK_SCRIPT.encode()).hexdigest()
        self.queue: list[Pending] = []
        self.sending = False

    async def close(self) -> None:
        """Close the Redis connections (of the `limits` storage too: they are the same)."""
        await self.connection.aclose()

    async def check(
        self, rules: Sequence[tuple[str, Sequence[RateLimitItem], str]]
    ) -> list[list[tuple[RateLimitItem, WindowReply]]]:
        """Per rule in order, up to and including the first that refuses: each window's (allowed, remaining,
        reset ms). A rule counts the hit in all its windows or, when one refuses, in none.

        Raises StorageError for anything the Redis client raises, and when Redis does not answer within
        `timeout`.
        """
        keys: list[str] = []
        args: list[str | int] = [self.strategy, len(rules)]
        for rule_id, items, key in rules:
            args.append(len(items))
            for item in items:
                name = item.key_for(rule_id, key)
                if self.sliding:  # limits' names: the current window `{key}`, the previous one `{key}/-1`
                    keys += (f"{self.prefix}{{{name}}}", f"{self.prefix}{{{name}}}/-1")
                else:
                    keys.append(self.prefix + name)
                args += (item.amount, item.get_expiry())
        future: asyncio.Future[list[int]] = asyncio.get_running_loop().create_future()
        self.queue.append((keys, args, future))
        if not self.sending:
            self.sending = True
            asyncio.get_running_loop().create_task(self._send_queued())
        flat = await future
        replies: list[list[tuple[RateLimitItem, WindowReply]]] = []
        position = 0
        for _, items, _ in rules:
            if position >= len(flat):
                break
            windows = []
            for item in items:
                allowed, remaining, reset = flat[position : position + 3]
                windows.append((item, (bool(allowed), int(remaining), int(reset))))
                position += 3
            replies.append(windows)
        return replies

    async def _send_queued(self) -> None:
        """One pipeline in flight at a time; what queued meanwhile is the next. Runs until the queue is empty."""
        try:
            while self.queue:
                batch, self.queue = self.queue, []
                batch = [pending for pending in batch if not pending[2].done()]  # gave up waiting already
                try:
                    async with asyncio.timeout(self.timeout):
                        answers = await self._pipeline(batch)
                except self.errors as exc:
                    for *_, future in batch:
                        if not future.done():
                            future.set_exception(StorageError(exc))
                    continue
                for (*_, future), answer in zip(batch, answers, strict=True):
                    if future.done():
                        continue
                    if isinstance(answer, Exception):
                        future.set_exception(StorageError(answer))
                    else:
                        future.set_result(answer)
        finally:
            self.sending = False

    async def _pipeline(self, batch: list[Pending]) -> list[Any]:
        """EVALSHA per check in one pipeline; the script is loaded first when Redis does not know it (a new or
        restarted server), then the checks it refused for that are sent once more."""
        answers: list[Any] = [NoScriptError()] * len(batch)
        for attempt in range(2):
            todo = [i for i, answer in enumerate(answers) if isinstance(answer, NoScriptError)]
            if not todo:
                break
            if attempt:
                await self.connection.script_load(CHECK_SCRIPT)
            pipe = self.connection.pipeline(transaction=False)
            for i in todo:
                keys, args, _ = batch[i]
                pipe.evalsha(self.sha, len(keys), *keys, *args)
            for i, answer in zip(todo, await pipe.execute(raise_on_error=False), strict=True):
                answers[i] = answer
        return answers


def _as_tuple(errors: type[Exception] | tuple[type[Exception], ...]) -> tuple[type[Exception], ...]:
    return errors if isinstance(errors, tuple) else (errors,)
