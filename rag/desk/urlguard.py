"""Fetch a URL for the desk without opening server-side request forgery.

Only http(s); the host is resolved here and every address it resolves to must be a
public one (not loopback, private, link-local, shared, multicast, unspecified or
reserved, IPv4-mapped IPv6 included), and the connection goes to the address that
was checked (a second lookup could answer otherwise: DNS rebinding). Redirects are
followed by hand, each hop checked the same way. A connect/read timeout, a
whole-fetch deadline and a size cap bound the cost; no proxy from the environment
is used. `fetch_allow` lists networks let through all the same (an intranet CMS;
the tests' own loopback server).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from rag.config import DeskSettings
from rag.desk.errors import UploadError
from rag.desk.uploads import too_large

Resolver = Callable[[str, int], list[str]]  # (host, port) -> addresses

_TYPES = {"application/pdf": ".pdf", "text/html": ".html", "application/xhtml+xml": ".html",
          "text/plain": ".txt", "text/markdown": ".md", "text/x-markdown": ".md"}
_REDIRECTS = (301, 302, 303, 307, 308)


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the system resolver)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise UploadError(f"{host}: the name does not resolve ({exc.strerror})") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in found))


def refusal(address: str, allowed: Sequence[str] = ()) -> str | None:
    """Why `address` may not be fetched from, or None when it may (a public address,
    or one inside the `allowed` networks)."""
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(
        address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for flag, what in (("is_unspecified", "unspecified"), ("is_multicast", "multicast")):
        if getattr(ip, flag):
            return what
    if any(ip in ipaddress.ip_network(n.strip(), strict=False) for n in allowed):
        return None
    for flag, what in (("is_loopback", "loopback"), ("is_link_local", "link-local"),
                       ("is_private", "private"), ("is_reserved", "reserved")):
        if getattr(ip, flag):
            return what
    return None if ip.is_global else "not a public address"


@dataclass(frozen=True)
class Fetched:
    url: str  # after redirects
    suffix: str  # from the content type
    path: Path
    size: int


class _Pinned(http.client.HTTPConnection):
    """HTTP to an address checked beforehand, whatever the host name resolves to now."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedTLS(http.client.HTTPSConnection):
    """HTTPS to a checked address; the certificate is verified for the host name."""

    def __init__(self, host: str, address: str, port: int, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self.address = address

    def connect(self) -> None:
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def check_url(url: str, cfg: DeskSettings, resolver: Resolver) -> tuple[str, int, str]:
    """(host, port, address to connect to) for `url`; raises `UploadError` when the URL
    or any address its host resolves to may not be fetched."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UploadError(f"{url[:200]}: only http:// and https:// URLs can be fetched")
    if parts.username or parts.password:
        raise UploadError(f"{url[:200]}: URLs with a user name or password are refused")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise UploadError(f"{url[:200]}: not a valid port") from exc
    addresses = resolver(parts.hostname, port)
    for address in addresses:
        why = refusal(address, cfg.fetch_allow)
        if why:
            raise UploadError(f"{url[:200]}: {parts.hostname} is {address}, a {why} address; "
                              "only public addresses are fetched (server-side request "
                              "forgery)", status=403)
    if not addresses:
        raise UploadError(f"{url[:200]}: {parts.hostname} has no address")
    return parts.hostname, port, addresses[0]


def fetch(url: str, dest: Path, cfg: DeskSettings, resolver: Resolver = resolve) -> Fetched:
    """Download `url` into `dest` + its type's extension. Returns what was fetched;
    raises `UploadError` (refused address, status, type, size, time)."""
    deadline = time.monotonic() + 4 * cfg.fetch_timeout
    for _ in range(cfg.fetch_redirects + 1):
        host, port, address = check_url(url, cfg, resolver)
        parts = urlsplit(url)
        kind = _PinnedTLS if parts.scheme == "https" else _Pinned
        conn = kind(host, address, port, cfg.fetch_timeout)
        try:
            conn.request("GET", (parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
                         headers={"User-Agent": "newsroom-rag-desk/1", "Accept": "*/*"})
            resp = conn.getresponse()
            if resp.status in _REDIRECTS and resp.getheader("Location"):
                url = urljoin(url, resp.getheader("Location", ""))
                continue
            if resp.status != 200:
                raise UploadError(f"{url[:200]}: the server answered {resp.status} {resp.reason}")
            suffix = _suffix(url, resp.getheader("Content-Type", ""))
            path = dest.with_suffix(suffix)
            size = _save(resp, path, url, cfg.max_upload_mb * 2**20, deadline)
            return Fetched(url=url, suffix=suffix, path=path, size=size)
        except (OSError, http.client.HTTPException) as exc:
            raise UploadError(f"{url[:200]}: the fetch failed ({exc})") from exc
        finally:
            conn.close()
    raise UploadError(f"{url[:200]}: more than {cfg.fetch_redirects} redirects "
                      "(RAG_SERVE__DESK__FETCH_REDIRECTS)")


def _suffix(url: str, content_type: str) -> str:
    mime = content_type.split(";", 1)[0].strip().lower()
    if mime in _TYPES:
        return _TYPES[mime]
    path = urlsplit(url).path.lower()
    if mime in ("application/octet-stream", "") and path.endswith(tuple(set(_TYPES.values()))):
        return "." + path.rsplit(".", 1)[1]
    raise UploadError(f"{url[:200]}: content type {mime or '(none)'!r} is not a PDF, HTML, "
                      "Markdown or text document", status=415)


def _save(resp: http.client.HTTPResponse, path: Path, url: str, max_bytes: int,
          deadline: float) -> int:
    length = resp.getheader("Content-Length")
    if length and length.isdigit() and int(length) > max_bytes:
        raise too_large(url[:200], max_bytes)
    size = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        with path.open("xb") as fh:
            while block := resp.read(65536):
                size += len(block)
                if size > max_bytes:
                    raise too_large(url[:200], max_bytes)
                if time.monotonic() > deadline:
                    raise UploadError(f"{url[:200]}: the fetch took too long "
                                      "(RAG_SERVE__DESK__FETCH_TIMEOUT)", status=504)
                fh.write(block)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return size
