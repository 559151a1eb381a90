"""Per-client rate limits on the question endpoints: a token bucket per client address.

The API is public (the widget sits on article pages), so one script must not take
every answering slot. Overload (everyone at once) is still shed with a 503 by the
slots in `ui.api`; abuse (one client asking far more than a reader could) is turned
away here, before any work, with a 429, a `Retry-After` header and a JSON message.
The client address is the connection's peer, or the address a trusted reverse proxy
names in `X-Forwarded-For`; from anyone else that header is ignored, since a client
could otherwise pick a fresh address for every request.
"""

from __future__ import annotations

import ipaddress
import json
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import Any

from rag.config import ServeSettings

# The routes that ask questions (POST); the chat's submit is checked in `ui.chat`.
QUESTION_PATHS = frozenset({"/api/ask", "/api/ask/stream"})

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class RateLimiter:
    """Token buckets keyed by client: `burst` questions at once, refilled at
    `per_minute`. At most `max_clients` buckets are kept (least recently seen
    forgotten first), so a flood of addresses cannot exhaust memory."""

    def __init__(self, per_minute: float, burst: int, max_clients: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Spend one token of `client`'s bucket: 0.0 when allowed, else the seconds
        until a token is there again (nothing is spent then)."""
        now = self._clock()
        with self._lock:
            tokens, then = self._buckets.pop(client, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens - 1.0 if wait == 0.0 else tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait


class ClientAddresses:
    """Who a request comes from, honouring `X-Forwarded-For` only from trusted proxies."""

    def __init__(self, trusted: Iterable[str]) -> None:
        try:
            self.trusted: tuple[IPNetwork, ...] = tuple(
                ipaddress.ip_network(t.strip(), strict=False) for t in trusted)
        except ValueError as exc:
            raise ValueError(f"RAG_SERVE__LIMITS__TRUSTED_PROXIES: {exc}; give addresses or "
                             "networks such as 127.0.0.1 or 10.0.0.0/8") from exc

    def is_trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in net for net in self.trusted)

    def client(self, peer: str | None, forwarded_for: str | None) -> str:
        """The client address: the peer, or when the peer is a trusted proxy, the
        right-most address in `X-Forwarded-For` that is not a trusted proxy (the
        left-most hops are written by the client and cannot be believed)."""
        address = peer or "unknown"
        if not forwarded_for or not self.is_trusted(address):
            return address
        for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
            try:
                ipaddress.ip_address(hop)
            except ValueError:
                return address  # a malformed hop: believe no further
            address = hop
            if not self.is_trusted(hop):
                return hop
        return address


def too_many_message(wait: float) -> str:
    return (f"Too many questions from your address: please wait {retry_after(wait)} "
            "seconds and ask again.")


def retry_after(wait: float) -> int:
    return max(1, math.ceil(wait))


class QuestionLimits:
    """The app's limiter and address resolution, shared by the API and the chat."""

    def __init__(self, serve: ServeSettings,
                 clock: Callable[[], float] = time.monotonic) -> None:
        limits = serve.limits
        self.enabled = limits.rate_limit
        self.limiter = RateLimiter(limits.rate_per_minute, limits.rate_burst,
                                   limits.rate_clients, clock)
        self.addresses = ClientAddresses(limits.trusted_proxies)

    def check(self, peer: str | None, forwarded_for: str | None) -> float:
        """0.0 when this client may ask now, else the seconds to wait."""
        if not self.enabled:
            return 0.0
        return self.limiter.take(self.addresses.client(peer, forwarded_for))


class RateLimitMiddleware:
    """Pure ASGI: answers a question over the limit with 429 before the app sees it."""

    def __init__(self, app: Any, limits: QuestionLimits, origins: Iterable[str] = ()) -> None:
        self.app = app
        self.limits = limits
        self.origins = {o.encode("latin-1") for o in origins}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (scope["type"] != "http" or scope.get("method") != "POST"
                or scope.get("path") not in QUESTION_PATHS):
            await self.app(scope, receive, send)
            return
        peer = (scope.get("client") or (None,))[0]
        headers = scope.get("headers", [])
        # Several X-Forwarded-For headers read as one list, in order.
        forwarded = ",".join(v.decode("latin-1") for k, v in headers
                             if k.lower() == b"x-forwarded-for")
        wait = self.limits.check(peer, forwarded or None)
        if wait == 0.0:
            await self.app(scope, receive, send)
            return
        origin = next((v for k, v in headers if k.lower() == b"origin"), None)
        await send({"type": "http.response.start", "status": 429,
                    "headers": self._headers(wait, origin)})
        await send({"type": "http.response.body", "body": self._body(wait)})

    @staticmethod
    def _body(wait: float) -> bytes:
        return json.dumps({"error": too_many_message(wait),
                           "retry_after": retry_after(wait)}).encode()

    def _headers(self, wait: float, origin: bytes | None) -> list[tuple[bytes, bytes]]:
        """The 429's headers, including what CORS would add, so a widget on an allowed
        page can read the message."""
        out = [(b"content-type", b"application/json"),
               (b"content-length", str(len(self._body(wait))).encode()),
               (b"retry-after", str(retry_after(wait)).encode()),
               (b"x-content-type-options", b"nosniff"), (b"vary", b"Origin")]
        if origin is not None and origin in self.origins:
            out.append((b"access-control-allow-origin", origin))
        return out
