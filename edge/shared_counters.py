"""Rate-limit counters in Redis: every rule and window of a request checked and counted in one round trip,
shared by the requests that wait at the same time.

`limits` asks Redis twice per window (`hit`, then `get_window_stats`; the fixed window three or four times),
each a separate round trip. Here one Lua script, registered on the connection `limits`' own Redis storage
manages, takes all the windows of all the rules that matched a request, and per rule tests every window,
counts the hit in all of them only when all allow it (as `edge.counters` does in memory), and answers each
window's remaining budget and reset. Rules are taken in order and the script stops after the first rule
that refuses, as the gateway stops at the first 429: later rules are neither counted nor reported. The
checks of the requests that queue while one call is in flight go together in the next call, one after
another inside the script.

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
from dataclasses import dataclass
from typing import Any, TypeGuard

from limits.aio.storage import RedisStorage
from limits.errors import StorageError
from redis.exceptions import NoScriptError

from edge.ratepolicy import Policy

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

-- ARGV: strategy, the number of checks, then per check the number of rules, per rule the number of
-- windows, per window its limit and expiry; KEYS: the windows' counters in the same order. The answer is
-- one array per check, (allowed, remaining, reset ms) per window of each rule it reached.
local out = {}
local a, k = 3, 1
for c = 1, tonumber(ARGV[2]) do
  local reply = {}
  local stopped = false
  local rules = tonumber(ARGV[a])
  a = a + 1
  for _ = 1, rules do
    local n = tonumber(ARGV[a])
    if stopped then
      -- after a refusal, the check's later rules are neither counted nor reported: step over them
      k = k + n * keys_per_window
    else
      local windows = {}
      local allowed = true
      for i = 1, n do
        local w = {key = KEYS[k], prev_key = KEYS[k + 1], limit = tonumber(ARGV[a + 2 * i - 1]),
                   expiry = tonumber(ARGV[a + 2 * i])}
        k = k + keys_per_window
        w.ok = state(w)
        allowed = allowed and w.ok
        windows[i] = w
      end
      for _, w in ipairs(windows) do
        if allowed then count(w) end
        reply[#reply + 1] = w.ok and 1 or 0
        reply[#reply + 1] = math.max(0, w.limit - w.used)
        reply[#reply + 1] = math.floor(w.reset)
      end
      stopped = not allowed
    end
    a = a + 1 + 2 * n
  end
  out[c] = reply
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


@dataclass(frozen=True, slots=True)
class PackedRule:
    """A rule as a check sends it: `count` script arguments packed in `args`, and per counter the parts of
    its name before and after the client's key."""

    count: int
    args: bytes
    keys: tuple[tuple[str, str], ...]


MAX_BATCH = 512  # checks per script call: Redis runs a call to its end before serving anyone else


@dataclass(slots=True)
class Pending:
    """One request's check, packed, waiting for the next batch."""

    keys: int  # how many keys `packed_keys` holds
    packed_keys: bytes
    args: int  # how many arguments `packed_args` holds
    packed_args: bytes
    asked: float  # loop time: the check must be answered within `timeout` of this
    future: asyncio.Future[list[int]]


class SharedCounters:
    """The counters of one strategy in the Redis behind a `limits` RedisStorage (redis-py's client).

    Checks are batched: the checks that arrive while a batch is in flight go out together as the next one, as
    soon as it returns, in one EVALSHA of the script (one write and one read for all of them, however many
    requests wait; Redis runs the batch atomically, one check after another). With one request at a time,
    each check is its own round trip at once. The command is packed here, not by redis-py (whose packing
    costs more than the rest of a check), and sent on one connection taken from `limits`' pool, so the
    storage URL's options (TLS, password, database, Sentinel) apply as they would to `limits`.
    """

    def __init__(self, storage: RedisStorage, strategy: str, *, timeout: float) -> None:
        self.sliding = strategy == "sliding-window-counter"
        self.strategy = _bulk(strategy)
        self.timeout = timeout
        self.prefix = storage.bridge.key_prefix + ":"
        self.client: Any = storage.bridge.get_connection()  # type: ignore[attr-defined]
        self.connection: Any = None  # taken from the client's pool at the first check, kept until close()
        self.sha = hashlib.sha1(CHECK_SCRIPT.encode()).hexdigest()
        self.packed_rules: dict[Policy, PackedRule] = {}
        self.queue: list[Pending] = []
        self.sender: asyncio.Task[None] | None = None  # sends batches while the queue has checks

    async def close(self) -> None:
        """Close the Redis connections (of the `limits` storage too: they are the same)."""
        if self.connection is not None:
            await self.client.connection_pool.release(self.connection)
            self.connection = None
        await self.client.aclose()

    async def check(self, rules: Sequence[tuple[Policy, str]]) -> list[int]:
        """(allowed, remaining, reset ms) of each window of each rule in order, up to and including the first
        rule that refuses, flat. A rule counts the hit in all its windows or, when one refuses, in none.

        Raises StorageError for anything the Redis client raises, and when Redis does not answer within
        `timeout` of the call.
        """
        keys: list[bytes] = []
        args = [_bulk(str(len(rules)))]
        count = 1
        for policy, key in rules:
            packed = self.packed_rules.get(policy) or self._pack_rule(policy)
            count += packed.count
            args.append(packed.args)
            for head, tail in packed.keys:
                keys.append(_bulk(head + key + tail))
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[int]] = loop.create_future()
        self.queue.append(Pending(len(keys), b"".join(keys), count, b"".join(args), loop.time(), future))
        if self.sender is None or self.sender.done():
            self.sender = loop.create_task(self._send_queued())  # held: the loop keeps only a weak reference
        return await future

    def _pack_rule(self, policy: Policy) -> PackedRule:
        """What a check of `policy` sends, worked out once per rule: its script arguments (the window count,
        then each window's limit and expiry) packed, and its counters' names around the client's key."""
        if len(self.packed_rules) >= 4096:  # rules of earlier reloads
            self.packed_rules.clear()
        values = [len(policy.windows)]
        names: list[tuple[str, str]] = []
        for window in policy.windows:
            values += (window.amount, window.expiry)
            if self.sliding:  # limits' names: the current window `{key}`, the previous one `{key}/-1`
                names += (
                    (self.prefix + "{" + window.prefix, window.suffix + "}"),
                    (self.prefix + "{" + window.prefix, window.suffix + "}/-1"),
                )
            else:
                names.append((self.prefix + window.prefix, window.suffix))
        packed = self.packed_rules[policy] = PackedRule(
            len(values), b"".join(_bulk(str(v)) for v in values), tuple(names)
        )
        return packed

    async def _send_queued(self) -> None:
        """One batch in flight at a time; what queued meanwhile is the next (at most MAX_BATCH checks, so that
        one script call never holds Redis long). Runs until the queue is empty. Every check of a batch gets
        its answer or a StorageError, whatever failed (the client's errors, no answer in time, an answer that is
        not one list of integers per check): a request never waits on a batch that went wrong."""
        while self.queue:
            batch, self.queue = self.queue[:MAX_BATCH], self.queue[MAX_BATCH:]
            batch = [pending for pending in batch if not pending.future.done()]  # gave up waiting already
            if not batch:
                continue
            try:
                async with asyncio.timeout_at(min(pending.asked for pending in batch) + self.timeout):
                    answers = await self._run(self._command(batch))
                if not _well_formed(answers, len(batch)):
                    raise ValueError(f"unexpected answer from the rate-limit script: {str(answers)[:80]}")
            except Exception as exc:
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(StorageError(exc))
                continue
            for pending, answer in zip(batch, answers, strict=True):
                if not pending.future.done():
                    pending.future.set_result(answer)

    def _command(self, batch: list[Pending]) -> bytes:
        """EVALSHA of the script with every key and argument of the batch, as RESP."""
        keys = sum(pending.keys for pending in batch)
        args = sum(pending.args for pending in batch)
        head = b"*%d\r\n$7\r\nEVALSHA\r\n%s%s%s%s" % (
            3 + keys + 2 + args,
            _bulk(self.sha),
            _bulk(str(keys)),
            b"".join([pending.packed_keys for pending in batch]),
            self.strategy + _bulk(str(len(batch))),
        )
        return head + b"".join([pending.packed_args for pending in batch])

    async def _run(self, command: bytes) -> list[list[int]]:
        """Send `command` and read its answer; the script is loaded first when Redis does not know it (a new
        or restarted server), then the command is sent once more."""
        if self.connection is None:
            self.connection = await self.client.connection_pool.get_connection()
        for attempt in range(2):
            await self.connection.send_packed_command(command)
            try:
                answer: list[list[int]] = await self.connection.read_response(disable_decoding=True)
                return answer
            except NoScriptError:
                if attempt:
                    raise
                await self.connection.send_packed_command(self.connection.pack_command("SCRIPT", "LOAD", CHECK_SCRIPT))
                await self.connection.read_response()
        raise AssertionError("unreachable")


_INT = frozenset({int})


def _well_formed(answers: object, checks: int) -> TypeGuard[list[list[int]]]:
    """One list of integers, three per window reached, for each check (the types tested in C: `map`)."""
    return (
        type(answers) is list
        and len(answers) == checks
        and all(type(a) is list and len(a) % 3 == 0 and _INT.issuperset(map(type, a)) for a in answers)
    )


def _bulk(text: str) -> bytes:
    """A RESP bulk string."""
    data = text.encode("utf-8", "surrogatepass")
    return b"$%d\r\n%s\r\n" % (len(data), data)
