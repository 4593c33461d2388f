"""The shared crawl frontier of several crawler processes on one Redis: leases, claims, emitted set, politeness.

- A **lease** gives one process a source (its feed, sitemap, section or channel) for a while; its holder renews it
  while it runs and frees it at the end. A process killed with `kill -9` stops renewing, the lease expires, and
  the next process (or its own restart: the owner id is stable per state file) takes the source over.
- A **claim** gives one process an article URL between "about to fetch or emit it" and "it went to the sink";
  it expires as well, so a URL whose holder died is fetched again the next time any process reads its listing.
- The **emitted set** holds the canonical URL of every article that went to a sink, from every process: the
  shared "already emitted" store. An article is added only after its sink acknowledged it.
- The **request queue** holds the article pages any process found and no process has fetched yet: a sorted set
  of canonical URLs scored by the time each becomes visible, beside a hash of their requests. Every process takes
  the visible ones; taking one claims it and hides it for the claim time, so an article taken by a process that
  then dies is visible again once its claim expires (at once for that process's restart, which puts back what
  its previous life held). It leaves the queue when its sink acknowledged it, when the page turned out not to be
  an article, or after a few failed fetches.
- **Politeness**: one "next request allowed at" time per domain, advanced atomically, so the per-domain delay
  holds across processes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import socket
import time
from pathlib import Path
from typing import Any

from rezonans.model import canonicalize_url

log = logging.getLogger(__name__)

LEASE_TTL = 120.0  # seconds a source stays with a process that stopped renewing it
CLAIM_TTL = 600.0  # seconds an article URL stays with a process that neither emitted it nor gave it back

# KEYS[1] = key, ARGV[1] = owner, ARGV[2] = ttl ms: take the key if free, or extend it if it is ours.
_TAKE = """
local v = redis.call('GET', KEYS[1])
if not v then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
if v == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""
# KEYS[1] = key, ARGV[1] = owner: delete the key only if it is ours.
_GIVE_BACK = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""
# KEYS[1] = claim key, KEYS[2] = emitted set, ARGV[1] = canonical URL, ARGV[2] = owner, ARGV[3] = ttl ms.
_CLAIM = """
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
  return -1
end
local v = redis.call('GET', KEYS[1])
if not v or v == ARGV[2] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
"""
# KEYS: queue, requests, emitted set, claim key. ARGV: canonical URL, request JSON, now ms.
_ENQUEUE = """
if redis.call('SISMEMBER', KEYS[3], ARGV[1]) == 1 then
  return -1
end
if redis.call('ZSCORE', KEYS[1], ARGV[1]) or redis.call('EXISTS', KEYS[4]) == 1 then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""
# KEYS: queue, requests, emitted set, this owner's in-flight set. ARGV: now ms, n, owner, ttl ms, claim key prefix.
_TAKE_REQUESTS = """
local now = tonumber(ARGV[1])
local out = {}
for _, c in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))) do
  local body = redis.call('HGET', KEYS[2], c)
  if redis.call('SISMEMBER', KEYS[3], c) == 1 or not body then
    redis.call('ZREM', KEYS[1], c)
    redis.call('HDEL', KEYS[2], c)
  else
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), c)
    redis.call('SET', ARGV[5] .. c, ARGV[3], 'PX', ARGV[4])
    redis.call('SADD', KEYS[4], c)
    table.insert(out, body)
  end
end
return out
"""
# KEYS[1] = domain key, ARGV[1] = now ms, ARGV[2] = delay ms: reserve the next slot, return how long to wait (ms).
_SLOT = """
local now = tonumber(ARGV[1])
local delay = tonumber(ARGV[2])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local at = math.max(now, nxt)
redis.call('SET', KEYS[1], tostring(at + delay), 'PX', math.floor(delay * 10 + 60000))
return at - now
"""


def owner_id(state_path: Path | str) -> str:
    """A process's stable name: its host and state file, so a restarted crawler takes its own leases back at once."""
    digest = hashlib.sha1(str(Path(state_path).resolve()).encode()).hexdigest()[:12]
    return f"{socket.gethostname()}:{digest}"


class SharedFrontier:
    """Leases, claims, the emitted set and per-domain politeness in Redis (see the module docstring)."""

    def __init__(
        self,
        url: str,
        owner: str,
        prefix: str = "rezonans",
        lease_ttl: float = LEASE_TTL,
        claim_ttl: float = CLAIM_TTL,
    ) -> None:
        import redis

        self.client: Any = redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=5)
        self.owner = owner
        self.prefix = prefix
        self._take = self.client.register_script(_TAKE)
        self._give_back = self.client.register_script(_GIVE_BACK)
        self._claim = self.client.register_script(_CLAIM)
        self._slot = self.client.register_script(_SLOT)
        self._enqueue = self.client.register_script(_ENQUEUE)
        self._take_requests = self.client.register_script(_TAKE_REQUESTS)
        self.leases: set[str] = set()
        self.lease_ttl = lease_ttl
        self.claim_ttl = claim_ttl

    def _key(self, kind: str, name: str) -> str:
        return f"{self.prefix}:{kind}:{name}"

    @property
    def emitted_key(self) -> str:
        """The Redis set of canonical URLs of every emitted article."""
        return f"{self.prefix}:emitted"

    # -- sources ---------------------------------------------------------------------------------
    def lease(self, source_key: str, ttl: float | None = None) -> bool:
        """Take (or keep) a source for `ttl` seconds; False while another live process holds it."""
        ttl = self.lease_ttl if ttl is None else ttl
        ok = bool(self._take(keys=[self._key("lease", source_key)], args=[self.owner, int(ttl * 1000)]))
        if ok:
            self.leases.add(source_key)
        return ok

    def renew(self, ttl: float | None = None) -> None:
        """Extend every lease this process holds (called periodically while it runs)."""
        for source_key in list(self.leases):
            if not self.lease(source_key, ttl):
                log.warning("lost the lease of %s to another crawler", source_key)
                self.leases.discard(source_key)

    def release_all(self) -> None:
        """Give every lease back (end of the run)."""
        for source_key in list(self.leases):
            self._give_back(keys=[self._key("lease", source_key)], args=[self.owner])
        self.leases.clear()

    # -- articles --------------------------------------------------------------------------------
    def claim(self, url: str, ttl: float | None = None) -> str:
        """'ours' (fetch or emit it), 'emitted' (some process already did) or 'elsewhere' (another holds it)."""
        ttl = self.claim_ttl if ttl is None else ttl
        canon = canonicalize_url(url)
        got = int(
            self._claim(keys=[self._key("claim", canon), self.emitted_key], args=[canon, self.owner, int(ttl * 1000)])
        )
        return {1: "ours", -1: "emitted"}.get(got, "elsewhere")

    def give_back(self, url: str) -> None:
        """Free the claim of an article this process could not fetch."""
        self._give_back(keys=[self._key("claim", canonicalize_url(url))], args=[self.owner])

    def is_emitted(self, url: str) -> bool:
        """Whether any process emitted this article."""
        return bool(self.client.sismember(self.emitted_key, canonicalize_url(url)))

    def mark_emitted(self, urls: list[str]) -> None:
        """Record articles a sink accepted (URL and canonical URL) and free their claims."""
        canons = sorted({canonicalize_url(u) for u in urls if u})
        if not canons:
            return
        pipe = self.client.pipeline()
        pipe.sadd(self.emitted_key, *canons)
        self._finish(pipe, canons).execute()

    # -- the shared request queue ---------------------------------------------------------------
    @property
    def queue_key(self) -> str:
        """The Redis sorted set of queued article URLs (score: when each is visible, in ms)."""
        return f"{self.prefix}:queue"

    @property
    def _requests_key(self) -> str:
        return f"{self.prefix}:queue:requests"

    @property
    def _attempts_key(self) -> str:
        return f"{self.prefix}:queue:attempts"

    @property
    def _inflight_key(self) -> str:
        return f"{self.prefix}:inflight:{self.owner}"

    def enqueue(self, url: str, request: dict[str, Any]) -> str:
        """Queue an article request for any process: 'queued', 'emitted' (already done) or 'elsewhere' (queued)."""
        canon = canonicalize_url(url)
        got = int(
            self._enqueue(
                keys=[self.queue_key, self._requests_key, self.emitted_key, self._key("claim", canon)],
                args=[canon, json.dumps(request, ensure_ascii=False), int(time.time() * 1000)],
            )
        )
        return {1: "queued", -1: "emitted"}.get(got, "elsewhere")

    def take(self, n: int) -> list[dict[str, Any]]:
        """Take up to `n` visible queued requests: each is claimed by this process and hidden for the claim time."""
        if n <= 0:
            return []
        bodies = self._take_requests(
            keys=[self.queue_key, self._requests_key, self.emitted_key, self._inflight_key],
            args=[
                int(time.time() * 1000),
                n,
                self.owner,
                int(self.claim_ttl * 1000),
                self._key("claim", ""),
            ],
        )
        return [json.loads(b) for b in bodies]

    def queued(self) -> int:
        """How many queued requests are visible now (not taken, not waiting for a retry)."""
        return int(self.client.zcount(self.queue_key, "-inf", int(time.time() * 1000)))

    def done(self, url: str) -> None:
        """A taken request is finished (not an article, a duplicate, or given up): it leaves the queue."""
        self._finish(self.client.pipeline(), [canonicalize_url(url)]).execute()

    def _finish(self, pipe: Any, canons: list[str]) -> Any:
        """Queue the commands that drop `canons` from the queue and free their claims."""
        pipe.zrem(self.queue_key, *canons)
        pipe.hdel(self._requests_key, *canons)
        pipe.hdel(self._attempts_key, *canons)
        pipe.srem(self._inflight_key, *canons)
        for canon in canons:
            self._give_back(keys=[self._key("claim", canon)], args=[self.owner], client=pipe)
        return pipe

    def retry(self, url: str, delay: float, attempts: int | None = 3) -> bool:
        """A failed fetch: visible again after `delay` s, or dropped (False) after `attempts` failures (None: never)."""
        canon = canonicalize_url(url)
        if int(self.client.hincrby(self._attempts_key, canon, 1)) >= (attempts or float("inf")):
            self.done(url)
            return False
        pipe = self.client.pipeline()
        pipe.zadd(self.queue_key, {canon: int((time.time() + delay) * 1000)}, xx=True)
        pipe.srem(self._inflight_key, canon)
        self._give_back(keys=[self._key("claim", canon)], args=[self.owner], client=pipe)
        pipe.execute()
        return True

    def moved(self, url: str, final_url: str) -> None:
        """A taken request was redirected: its queue entry and claim follow it to the final URL."""
        old, new = canonicalize_url(url), canonicalize_url(final_url)
        if old == new:
            return
        body = self.client.hget(self._requests_key, old)
        pipe = self._finish(self.client.pipeline(), [old])
        pipe.zadd(self.queue_key, {new: int((time.time() + self.claim_ttl) * 1000)})
        if body is not None:
            pipe.hset(self._requests_key, new, body)
        pipe.set(self._key("claim", new), self.owner, px=int(self.claim_ttl * 1000))
        pipe.sadd(self._inflight_key, new)
        pipe.execute()

    def recover(self) -> int:
        """Put back, visible at once, what this owner's previous life had taken and not finished (it was killed)."""
        canons = [c.decode() for c in self.client.smembers(self._inflight_key)]
        if not canons:
            return 0
        pipe = self.client.pipeline()
        now = int(time.time() * 1000)
        pipe.zadd(self.queue_key, dict.fromkeys(canons, now), xx=True)
        for canon in canons:
            self._give_back(keys=[self._key("claim", canon)], args=[self.owner], client=pipe)
        pipe.delete(self._inflight_key)
        pipe.execute()
        return len(canons)

    # -- politeness ------------------------------------------------------------------------------
    def wait_for_slot(self, domain: str, delay: float) -> float:
        """Reserve this domain's next request slot across all processes; seconds to wait before sending."""
        if delay <= 0:
            return 0.0
        now_ms = int(time.time() * 1000)
        wait_ms = int(self._slot(keys=[self._key("polite", domain)], args=[now_ms, int(delay * 1000)]))
        return max(0.0, wait_ms / 1000.0)

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()
