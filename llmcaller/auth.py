"""Who is calling: the caller's address, its token, and what its client may call.

    address outside LLMCALLER_ALLOWED_NETWORKS        → 403 FORBIDDEN
    address over LLMCALLER_ADDRESS_REQUESTS_PER_MINUTE → 429 RATE_LIMIT (token unread)
    no token, unknown, expired or revoked, client off  → 401 UNAUTHENTICATED
    method not in the client's allow-list              → 403 FORBIDDEN
      (for an OAuth access token: not in its scopes either)

This is the one authentication function of every door: `authenticate` checks the
address, the token and the method; `identify` the first two, for a door (MCP)
that learns the method only later, from the message it carries. A token is either static
(`llmc_…`, `llmcaller.tokens`) or an OAuth 2 access token (`llmco_…`,
`llmcaller.oauth`); each is looked up in its own table only. X-Forwarded-For is
believed only from peers in `LLMCALLER_TRUSTED_PROXIES`. A lookup (token →
client) is cached for `LLMCALLER_TOKEN_CACHE_SECONDS`, misses included; expiry
is checked on every call against the cached expiry time, and revocation drops
the cached entry (other processes without a shared cache see it within the
cache time). A look-up found is also kept in this process for
LLMCALLER_MEMO_SECONDS (`routing.memo`), which saves the Redis round trip: a
revocation drops it at once in the process that revoked, and other processes
see it within that time. Look-ups live in the cache "tokens", apart from the control state,
so random tokens cannot evict rate counters or breakers; when it does not
answer, the database decides (revocation still holds). A static token's
`last_used_at` is written at most once a minute.
The cache is called synchronously: local memory costs less than a thread hop,
and Redis answers on the local network in a fraction of one. Failed attempts
are counted per token fingerprint and logged with that fingerprint, never the token.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.http import HttpRequest
from django.utils.timezone import now
from oauth2_provider.models import get_access_token_model

from llmcaller.errors import AddressLimited, AddressRefused, Forbidden, Unauthenticated
from llmcaller.models import Client, ClientApplication, ClientToken
from llmcaller.tokens import (
    CACHE_KEY,
    OAUTH_CACHE_KEY,
    OAUTH_TOKEN_PREFIX,
    fingerprint,
    hash_token,
    oauth_checksum,
)
from routing import memo as memos

logger = logging.getLogger("llmcaller.auth")

USED_KEY = "llmcaller:token-used:{}"
FAILURES_KEY = "llmcaller:auth-failures:{}"
FAILURE_WINDOW = 600
ADDRESS_KEY = "llmcaller:address-rate:{}:{}"
ADDRESS_WINDOW = 60
TOUCH_INTERVAL = 60
_MISSING = "missing"
_clock = time.time  # the address window's clock; tests set it


@dataclass(frozen=True)
class CallerClient:
    """A client as one call sees it: a snapshot, safe to cache."""

    id: int
    tool_id: str
    methods: frozenset[str]
    requests_per_minute: int | None = None
    max_concurrent_streams: int | None = None
    daily_token_budget: int | None = None
    monthly_token_budget: int | None = None
    response_cache_seconds: int = 0
    keeps_content: bool = False
    content_retention_days: int | None = None

    @property
    def has_budget(self) -> bool:
        return self.daily_token_budget is not None or self.monthly_token_budget is not None


@dataclass(frozen=True)
class _TokenRecord:
    token_id: int
    client: CallerClient  # for an access token, `methods` is already cut to its scopes
    client_active: bool
    expires_at: datetime | None
    revoked: bool
    static: bool = True  # False: an OAuth access token

    def refusal(self) -> str | None:
        if self.revoked:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now():
            return "expired"
        return None if self.client_active else "client inactive"


async def authenticate(request: HttpRequest, *, method: str) -> CallerClient:
    client = await identify(request)
    if method not in client.methods:
        refusal = Forbidden(f"This client may not call {method}.")
        refusal.client = client  # known: its call gets a record of its own
        raise refusal
    return client


async def identify(request: HttpRequest) -> CallerClient:
    """The caller's client, whatever it may call (a door that checks methods later)."""
    check_caller_address(request)
    check_address_rate(request)
    raw = presented_token(request)
    record = await _lookup(raw) if raw else None
    reason = "missing" if not raw else ("unknown" if record is None else record.refusal())
    if reason:
        _count_failure(raw, reason, record.client.tool_id if record else "", request)
        raise Unauthenticated("A valid client token is required.", reason=f"token {reason}")
    if record.static:
        await _touch(record.token_id)
    return record.client


def presented_token(request: HttpRequest) -> str:
    token = request.headers.get("x-llm-caller-token", "").strip()
    if token:
        return token
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def check_caller_address(request: HttpRequest) -> None:
    address = caller_address(request)
    if address is None or not any(address in net for net in settings.LLMCALLER_ALLOWED_NETWORKS):
        raise AddressRefused("This address may not call the gateway.", reason="address refused")


def check_address_rate(request: HttpRequest) -> None:
    """Count the request against its address's per-minute limit, before any token
    lookup: one cache increment, so a flood costs no database work."""
    limit = settings.LLMCALLER_ADDRESS_REQUESTS_PER_MINUTE
    if not limit:
        return
    now = _clock()
    window = int(now // ADDRESS_WINDOW)
    key = ADDRESS_KEY.format(caller_address(request), window)
    try:
        cache.add(key, 0, ADDRESS_WINDOW + 5)
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        count = 1
    except ConnectionError:
        return  # not counted while the cache is down (fail open, as rate limits do)
    if count > limit:
        raise AddressLimited(
            f"This address is over its limit of {limit} requests a minute.",
            retry_after=ADDRESS_WINDOW - now % ADDRESS_WINDOW,
            reason="address over limit",
        )


def caller_address(request: HttpRequest) -> IPv4Address | IPv6Address | None:
    """The peer, or the first untrusted hop of X-Forwarded-For behind trusted proxies."""
    try:
        address = ip_address(request.META.get("REMOTE_ADDR", ""))
        hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if not _trusted_proxy(address):
                break
            address = ip_address(hop)
    except ValueError:
        return None
    return address


def _trusted_proxy(address: IPv4Address | IPv6Address) -> bool:
    return any(address in net for net in settings.LLMCALLER_TRUSTED_PROXIES)


async def _lookup(raw: str) -> _TokenRecord | None:
    if raw.startswith(OAUTH_TOKEN_PREFIX):
        digest, key, load = oauth_checksum(raw), OAUTH_CACHE_KEY, _load_access_token
    else:
        digest, key, load = hash_token(raw), CACHE_KEY, _load_static_token
    key = key.format(digest)
    record = memos.tokens.get(key)
    if record is not None:
        return record
    generation = memos.tokens.generation  # a revocation from now on is not undone
    cached = _cache_call("get", key)
    if cached is not None:
        if cached == _MISSING:
            return None  # not kept here: random tokens would fill the memo
        memos.tokens.put(key, cached, generation)
        return cached
    record = await load(digest)
    _cache_call("set", key, record or _MISSING, settings.LLMCALLER_TOKEN_CACHE_SECONDS)
    if record is not None:
        memos.tokens.put(key, record, generation)
    return record


def _cache_call(name: str, *args: Any) -> Any:
    """One call on the token cache; None when the cache does not answer."""
    try:
        return getattr(caches["tokens"], name)(*args)
    except ConnectionError:
        return None


async def _load_static_token(token_hash: str) -> _TokenRecord | None:
    tokens = ClientToken.objects.select_related("client")
    token = await tokens.filter(token_hash=token_hash).afirst()
    if token is None:
        return None
    expires, revoked = token.expires_at, token.revoked_at is not None
    return _TokenRecord(token.pk, _snapshot(token.client), token.client.active, expires, revoked)


async def _load_access_token(checksum: str) -> _TokenRecord | None:
    """An OAuth access token of a client's application; revoking one deletes it."""
    tokens = get_access_token_model().objects.select_related("application__gateway_client__client")
    token = await tokens.filter(token_checksum=checksum).afirst()
    try:
        client = token.application.gateway_client.client
    except (AttributeError, ClientApplication.DoesNotExist):  # no token, or no client's
        return None
    snapshot = _snapshot(client, scopes=frozenset(token.scope.split()))
    return _TokenRecord(token.pk, snapshot, client.active, token.expires, False, static=False)


def _snapshot(client: Client, *, scopes: frozenset[str] | None = None) -> CallerClient:
    methods = frozenset(client.allowed_methods)
    return CallerClient(
        id=client.pk,
        tool_id=client.tool_id,
        methods=methods if scopes is None else methods & scopes,
        requests_per_minute=client.requests_per_minute,
        max_concurrent_streams=client.max_concurrent_streams,
        daily_token_budget=client.daily_token_budget,
        monthly_token_budget=client.monthly_token_budget,
        response_cache_seconds=client.response_cache_seconds,
        keeps_content=client.keeps_content,
        content_retention_days=client.content_retention_days,
    )


# When this process last claimed each token's once-a-minute `last_used_at` write
# (by token id): it asks the shared cache, a Redis round trip, at most once a
# minute per token.
_touched: dict[int, float] = {}


async def _touch(token_id: int) -> None:
    moment = time.monotonic()
    if moment - _touched.get(token_id, -TOUCH_INTERVAL) < TOUCH_INTERVAL:
        return
    if len(_touched) > 10_000:
        _touched.clear()
    _touched[token_id] = moment
    if _cache_call("add", USED_KEY.format(token_id), 1, TOUCH_INTERVAL):
        await ClientToken.objects.filter(pk=token_id).aupdate(last_used_at=now())


def _count_failure(raw: str, reason: str, tool_id: str, request: HttpRequest) -> None:
    name = fingerprint(raw)
    key = FAILURES_KEY.format(name)
    _cache_call("add", key, 0, FAILURE_WINDOW)
    try:
        failures = caches["tokens"].incr(key)
    except ValueError:  # expired between add and incr
        failures = 1
    except ConnectionError:
        failures = 0  # unknown while the cache is down
    logger.warning(
        "Refused a client token: reason=%s token=%s client=%s failures=%d address=%s",
        reason,
        name,
        tool_id or "-",
        failures,
        request.META.get("REMOTE_ADDR", "-"),
    )
