"""Redis Streams backend: the distributed option. Needs redis-py (``pip install 'appfn[redis]'``).

URL: ``redis://[:password@]host:port/db[?prefix=appfn]`` or ``rediss://`` for TLS. Every key
starts with the prefix (default ``appfn``), so several deployments can share one Redis.

Key layout (P = prefix, Q = queue name)
---------------------------------------
    P:seq                  string   INCRBY (once per enqueue batch) → job ids, decimal, never reused
    P:clock                string   INCR (once per lease call) → lease tokens; also the order
                                    of dead letters
    P:job:<id>             hash     queue, payload, attempts, max_attempts, created_at (ms),
                                    token, deadline (ms), worker, entry (stream id while
                                    leased), error, dead_at (ms). Deleted on ack.
    P:q:Q:ready            stream   one entry {id: <job id>} per ready or leased job;
                                    consumer group "workers" (created with the stream),
                                    one consumer per worker_id
    P:q:Q:delayed          zset     job id → due time (ms): delays and nack backoff
    P:q:Q:leased           zset     job id → lease deadline (ms)
    P:q:Q:dead             zset     job id → P:clock value when it died (newest = highest)
    P:q:Q:dedupe:<key>     string   job id, PX dedupe_ttl: SET only when absent

How Streams semantics map to the contract
-----------------------------------------
* Ready jobs are stream entries; ``lease`` reads new ones with XREADGROUP ``>``, so the group
  hands each entry to exactly one worker, in stream (= FIFO) order. A leased entry stays in
  the stream and in the group's pending list (PEL) of that worker until the lease ends; then
  it is XACKed and XDELed, so the stream holds only live jobs.
* Visibility timeouts are per lease and can be extended, which the PEL's idle time cannot
  express (XAUTOCLAIM takes one min-idle-time for all entries). So the deadline lives in the
  ``leased`` zset; ``lease`` first takes entries past their deadline from there and moves
  them to the new worker with XCLAIM, keeping the PEL truthful about who holds what.
* Fencing: XACK does not check which consumer acks, so it cannot fence a stale worker. Every
  lease call takes a fresh token from ``P:clock`` and stores it in the hash of each job it
  leases; ack, nack, extend and dead_letter run as Lua scripts that act only when the
  caller's token is the stored one. (One token per call suffices: a job's next lease always
  comes from a later call, hence a different token.)
* Delayed jobs wait in a zset and are XADDed to the stream by the next ``lease`` after they
  are due (at most 1000 per call), so they rejoin the line at the tail.
* Every state change is one Lua script, hence atomic. Time is the server's (TIME), so
  workers on hosts with skewed clocks agree on deadlines.

Scripts build key names at run time, so this needs a standalone Redis (or Sentinel), not
Redis Cluster. Consumers named by worker ids stay in the group after a worker exits; they hold
nothing and cost a few bytes each (``XGROUP DELCONSUMER`` removes them).
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import urllib.parse
from collections.abc import Iterator, Sequence
from typing import Any

import redis

from appfn.errors import QueueError, QueueUnavailableError
from appfn.queue.base import (
    DEFAULT_DEDUPE_TTL_S,
    MAX_LEASE_BATCH,
    Broker,
    DeadJob,
    Depth,
    Lease,
    NewJob,
    check_delay,
    check_lease_args,
    check_page,
    check_timeout,
    clip_error,
)

DEFAULT_PREFIX = "appfn"

# Prepended to every script. ARGV[1] is always the key prefix. Scripts batch their writes
# (one ZADD/XACK/XDEL/DEL for many ids): each redis.call from Lua costs about 1-2 µs.
LUA_COMMON = """
local P = ARGV[1]
local GROUP = 'workers'
local function qkey(queue, part) return P .. ':q:' .. queue .. ':' .. part end
local function jkey(id) return P .. ':job:' .. id end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- the group is created with the stream, so XREADGROUP never meets a stream without one
local function make_ready(queue, id)
  local stream = qkey(queue, 'ready')
  if redis.call('EXISTS', stream) == 0 then redis.call('XGROUP', 'CREATE', stream, GROUP, '0', 'MKSTREAM') end
  redis.call('XADD', stream, '*', 'id', id)
end
local function drop_entry(queue, id, entry)
  if entry then
    redis.call('XACK', qkey(queue, 'ready'), GROUP, entry)
    redis.call('XDEL', qkey(queue, 'ready'), entry)
  end
  redis.call('ZREM', qkey(queue, 'leased'), id)
end
-- the lease is over: drop the stream entry and the deadline, void the token
local function release(queue, id, entry)
  drop_entry(queue, id, entry)
  redis.call('HSET', jkey(id), 'token', '')
  redis.call('HDEL', jkey(id), 'entry', 'deadline', 'worker')
end
local function bury(queue, id, err, now)
  redis.call('HSET', jkey(id), 'error', err, 'dead_at', now)
  redis.call('ZADD', qkey(queue, 'dead'), redis.call('INCR', P .. ':clock'), id)
end
"""

# ARGV: P, dedupe_ttl_ms, then per job: queue, payload, dedupe_key or '', delay_ms, max_attempts
LUA_ENQUEUE = """
local now, ttl, ids = now_ms(), ARGV[2], {}
local count = (#ARGV - 2) / 5
local next_id = redis.call('INCRBY', P .. ':seq', count) - count  -- deduped jobs leave gaps
for i = 3, #ARGV, 5 do
  local queue, dkey, delay = ARGV[i], ARGV[i + 2], tonumber(ARGV[i + 3])
  local id = false
  if dkey ~= '' then id = redis.call('GET', qkey(queue, 'dedupe:' .. dkey)) end
  if not id then
    next_id = next_id + 1
    id = tostring(next_id)
    redis.call('HSET', jkey(id), 'queue', queue, 'payload', ARGV[i + 1], 'attempts', 0,
               'max_attempts', ARGV[i + 4], 'created_at', now)
    if dkey ~= '' then redis.call('SET', qkey(queue, 'dedupe:' .. dkey), id, 'PX', ttl) end
    if delay > 0 then redis.call('ZADD', qkey(queue, 'delayed'), now + delay, id)
    else make_ready(queue, id) end
  end
  ids[#ids + 1] = id
end
return ids
"""

# ARGV: P, queue, worker_id, limit, visibility_timeout_ms
# → {deadline_ms, {{id, payload, attempt, max_attempts, token}, ...}}
# One token per call is enough: a job's next lease always comes from a later call.
LUA_LEASE = """
local queue, worker, limit = ARGV[2], ARGV[3], tonumber(ARGV[4])
local now = now_ms()
local deadline = now + tonumber(ARGV[5])
local token = tostring(redis.call('INCR', P .. ':clock'))
local stream, leased, delayed = qkey(queue, 'ready'), qkey(queue, 'leased'), qkey(queue, 'delayed')
local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, 1000)
if #due > 0 then redis.call('ZREM', delayed, unpack(due)) end
for _, id in ipairs(due) do make_ready(queue, id) end
local out, deadlines = {}, {}
local function grant(id, entry)
  local job = jkey(id)
  local f = redis.call('HMGET', job, 'payload', 'attempts', 'max_attempts')
  if not f[1] then return drop_entry(queue, id, entry) end  -- orphan entry, job hash gone
  local attempt = tonumber(f[2]) + 1
  redis.call('HSET', job, 'attempts', attempt, 'token', token, 'deadline', deadline, 'worker', worker,
             'entry', entry)
  deadlines[#deadlines + 1] = deadline
  deadlines[#deadlines + 1] = id
  out[#out + 1] = {id, f[1], attempt, tonumber(f[3]), token}
end
-- expired leases first: re-lease them, or bury those that used their last attempt
for _, id in ipairs(redis.call('ZRANGEBYSCORE', leased, '-inf', now, 'LIMIT', 0, limit)) do
  local f = redis.call('HMGET', jkey(id), 'attempts', 'max_attempts', 'entry', 'worker')
  if not f[1] then  -- job hash gone (deleted by hand): forget the lease
    drop_entry(queue, id, f[3])
  elseif tonumber(f[1]) >= tonumber(f[2]) then
    release(queue, id, f[3])
    bury(queue, id, 'lease expired on the last attempt (' .. f[1] .. ' of ' .. f[2] ..
         ', worker ' .. tostring(f[4]) .. ')', now)
  else
    redis.call('XCLAIM', stream, GROUP, worker, 0, f[3], 'JUSTID')
    grant(id, f[3])
  end
end
if #out < limit and redis.call('EXISTS', stream) == 1 then
  local res = redis.call('XREADGROUP', 'GROUP', GROUP, worker, 'COUNT', limit - #out, 'STREAMS', stream, '>')
  if res then
    for _, e in ipairs(res[1][2]) do grant(e[2][2], e[1]) end
  end
end
if #deadlines > 0 then redis.call('ZADD', leased, unpack(deadlines)) end
return {deadline, out}
"""

# ARGV: P, then id, token pairs → number acked. Writes are grouped per queue.
LUA_ACK = """
local n, seen, jobs, queues = 0, {}, {}, {}
for i = 2, #ARGV, 2 do
  local id = ARGV[i]
  local f = redis.call('HMGET', jkey(id), 'token', 'queue', 'entry')
  if f[1] == ARGV[i + 1] and not seen[id] then
    seen[id] = true
    local q = queues[f[2]] or {entries = {}, ids = {}}
    queues[f[2]] = q
    q.entries[#q.entries + 1] = f[3]
    q.ids[#q.ids + 1] = id
    jobs[#jobs + 1] = jkey(id)
    n = n + 1
  end
end
for queue, q in pairs(queues) do
  redis.call('XACK', qkey(queue, 'ready'), GROUP, unpack(q.entries))
  redis.call('XDEL', qkey(queue, 'ready'), unpack(q.entries))
  redis.call('ZREM', qkey(queue, 'leased'), unpack(q.ids))
end
if n > 0 then redis.call('DEL', unpack(jobs)) end
return n
"""

# ARGV: P, id, token, delay_ms, error, '1' to dead-letter now → 1 if the lease was held
LUA_NACK = """
local id, now = ARGV[2], now_ms()
local f = redis.call('HMGET', jkey(id), 'token', 'queue', 'entry', 'attempts', 'max_attempts')
if f[1] ~= ARGV[3] then return 0 end
release(f[2], id, f[3])
if ARGV[6] == '1' or tonumber(f[4]) >= tonumber(f[5]) then
  bury(f[2], id, ARGV[5], now)
  return 1
end
redis.call('HSET', jkey(id), 'error', ARGV[5])
local delay = tonumber(ARGV[4])
if delay > 0 then redis.call('ZADD', qkey(f[2], 'delayed'), now + delay, id)
else make_ready(f[2], id) end
return 1
"""

# ARGV: P, id, token, visibility_timeout_ms → new deadline (ms), or nil when stale
LUA_EXTEND = """
local id = ARGV[2]
local f = redis.call('HMGET', jkey(id), 'token', 'queue')
if f[1] ~= ARGV[3] then return false end
local deadline = now_ms() + tonumber(ARGV[4])
redis.call('HSET', jkey(id), 'deadline', deadline)
redis.call('ZADD', qkey(f[2], 'leased'), deadline, id)
return deadline
"""

# ARGV: P, id → 1 if it was dead
LUA_REPLAY = """
local id = ARGV[2]
local queue = redis.call('HGET', jkey(id), 'queue')
if not queue or redis.call('ZREM', qkey(queue, 'dead'), id) == 0 then return 0 end
redis.call('HSET', jkey(id), 'attempts', 0)
redis.call('HDEL', jkey(id), 'error', 'dead_at')
make_ready(queue, id)
return 1
"""

# ARGV: P, queue → {ready, delayed, leased, dead}
LUA_DEPTH = """
local queue, now = ARGV[2], now_ms()
local leased, delayed = qkey(queue, 'leased'), qkey(queue, 'delayed')
local leased_all, expired = redis.call('ZCARD', leased), redis.call('ZCOUNT', leased, '-inf', now)
local delayed_all, due = redis.call('ZCARD', delayed), redis.call('ZCOUNT', delayed, '-inf', now)
-- the stream holds ready and leased jobs; expired leases and due delays count as ready
local ready = redis.call('XLEN', qkey(queue, 'ready')) - leased_all + expired + due
return {ready, delayed_all - due, leased_all - expired, redis.call('ZCARD', qkey(queue, 'dead'))}
"""

# ARGV: P, queue, start, stop → {id, payload, attempts, max_attempts, error, dead_at}...
LUA_DEAD_LIST = """
local out = {}
for _, id in ipairs(redis.call('ZREVRANGE', qkey(ARGV[2], 'dead'), ARGV[3], ARGV[4])) do
  local f = redis.call('HMGET', jkey(id), 'payload', 'attempts', 'max_attempts', 'error', 'dead_at')
  out[#out + 1] = {id, f[1], f[2], f[3], f[4], f[5]}
end
return out
"""

SCRIPTS = {
    "enqueue": LUA_ENQUEUE,
    "lease": LUA_LEASE,
    "ack": LUA_ACK,
    "nack": LUA_NACK,
    "extend": LUA_EXTEND,
    "replay": LUA_REPLAY,
    "depth": LUA_DEPTH,
    "dead_list": LUA_DEAD_LIST,
}


def from_url(url: str, **options: Any) -> RedisBroker:
    """Open ``redis://host:port/db[?prefix=name]``; other options go to RedisBroker or redis-py."""
    url, prefix = _pop_prefix(url)
    broker_opts = {k: options.pop(k) for k in ("prefix", "dedupe_ttl_s") if k in options}
    broker_opts.setdefault("prefix", prefix or DEFAULT_PREFIX)
    # Bounded timeouts: a stalled Redis must surface as QueueUnavailableError, not a hang.
    options.setdefault("socket_timeout", 10.0)
    options.setdefault("socket_connect_timeout", 5.0)
    client = redis.Redis.from_url(url, **options, decode_responses=False)
    return RedisBroker(client, **broker_opts)


class RedisBroker(Broker):
    """The broker contract on Redis Streams. See the module docstring for the key layout."""

    def __init__(
        self, client: redis.Redis, *, prefix: str = DEFAULT_PREFIX, dedupe_ttl_s: float = DEFAULT_DEDUPE_TTL_S
    ) -> None:
        self.client = client
        self.prefix = prefix
        self._dedupe_ttl_ms = _ms(dedupe_ttl_s)
        self._scripts = {name: client.register_script(LUA_COMMON + body) for name, body in SCRIPTS.items()}

    def enqueue(self, jobs: Sequence[NewJob]) -> list[str]:
        if not jobs:
            return []
        now = time.time()
        args: list[Any] = [self.prefix, self._dedupe_ttl_ms]
        for job in jobs:
            delay = job.delay_from(now)  # relative: the server adds its own clock
            delay_ms = _ms(delay) if delay > 0 else 0
            args += [job.queue, job.payload, job.dedupe_key or "", delay_ms, job.max_attempts]
        return [_text(job_id) for job_id in self._run("enqueue", args)]

    def lease(self, queue: str, worker_id: str, limit: int, visibility_timeout_s: float) -> list[Lease]:
        check_lease_args(queue, worker_id, limit, visibility_timeout_s)
        args = [self.prefix, queue, worker_id, limit, _ms(visibility_timeout_s)]
        deadline_ms, rows = self._run("lease", args)
        deadline = deadline_ms / 1000
        return [
            Lease(_text(job_id), queue, payload, attempt, max_attempts, _text(token), deadline)
            for job_id, payload, attempt, max_attempts, token in rows
        ]

    def ack(self, leases: Sequence[Lease]) -> int:
        acked = 0
        for start in range(0, len(leases), MAX_LEASE_BATCH):  # bounds Lua's unpack()
            args: list[Any] = [self.prefix]
            for lease in leases[start : start + MAX_LEASE_BATCH]:
                args += [lease.job_id, lease.token]
            acked += int(self._run("ack", args))
        return acked

    def nack(self, lease: Lease, delay_s: float = 0.0, error: str = "") -> bool:
        check_delay(delay_s)
        return self._end(lease, _ms(delay_s) if delay_s > 0 else 0, error, dead=False)

    def dead_letter(self, lease: Lease, error: str) -> bool:
        return self._end(lease, 0, error, dead=True)

    def _end(self, lease: Lease, delay_ms: int, error: str, *, dead: bool) -> bool:
        args = [self.prefix, lease.job_id, lease.token, delay_ms, clip_error(error), "1" if dead else "0"]
        return bool(self._run("nack", args))

    def extend(self, lease: Lease, visibility_timeout_s: float) -> Lease | None:
        check_timeout(visibility_timeout_s)
        deadline_ms = self._run("extend", [self.prefix, lease.job_id, lease.token, _ms(visibility_timeout_s)])
        return None if deadline_ms is None else dataclasses.replace(lease, deadline=deadline_ms / 1000)

    def depth(self, queue: str) -> Depth:
        return Depth(*self._run("depth", [self.prefix, queue]))

    def dead_letters(self, queue: str, limit: int = 100, offset: int = 0) -> list[DeadJob]:
        check_page(limit, offset)
        if limit == 0:
            return []
        rows = self._run("dead_list", [self.prefix, queue, offset, offset + limit - 1])
        return [
            DeadJob(_text(i), queue, p, int(a), int(m), _text(e or b""), int(d) / 1000) for i, p, a, m, e, d in rows
        ]

    def replay(self, job_id: str) -> bool:
        return bool(self._run("replay", [self.prefix, job_id]))

    def close(self) -> None:
        self.client.close()

    def _run(self, script: str, args: list[Any]) -> Any:
        with _translate():
            return self._scripts[script](args=args)


@contextlib.contextmanager
def _translate() -> Iterator[None]:
    """redis-py errors → our errors, at the boundary."""
    try:
        yield
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise QueueUnavailableError(str(exc), "redis") from exc
    except redis.RedisError as exc:
        raise QueueError(f"redis: {exc}") from exc


def _pop_prefix(url: str) -> tuple[str, str | None]:
    """Take our ``prefix`` query parameter out of the URL; redis-py rejects unknown ones."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    prefix = next((v for k, v in query if k == "prefix"), None)
    rest = urllib.parse.urlencode([(k, v) for k, v in query if k != "prefix"])
    return urllib.parse.urlunsplit(parts._replace(query=rest)), prefix


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
