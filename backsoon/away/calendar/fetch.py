"""Fetching a member's calendar feed: which addresses we connect to, and a download
bounded in size and in time.

Fetches run in the background worker only (``feeds.calendar_feed_sync``), never on
a request thread. A download has one total deadline (``FETCH_DEADLINE_SECONDS``)
that holds *while* reading: a watchdog timer shuts the connection's socket down
when it passes, so a server that sends its headers or body one byte every few
seconds is cut at the deadline (issue 14, finding 1), not when a read returns.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import signal
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.client import HTTPMessage
from types import FrameType
from typing import IO, Any
from urllib.parse import quote, urlsplit, urlunsplit

from django.conf import settings
from django.utils.translation import gettext

from backsoon.errors import DomainError, Invalid

MAX_ICS_BYTES = 2 * 1024 * 1024
# One connect or read that waits longer than this fails.
FETCH_TIMEOUT_SECONDS = 10.0
# The whole download (connect, TLS, headers, every redirect, body) ends by then,
# however the server paces its bytes.
FETCH_DEADLINE_SECONDS = 15.0
READ_SIZE = 16 * 1024
MAX_REDIRECTS = 5
FEED_URL_MAX = 2000
USER_AGENT = "Backsoon-Calendar/1.0 (absence import)"
# NAT64 (RFC 6052): 64:ff9b::a.b.c.d reaches the IPv4 address a.b.c.d.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# IPv4-compatible addresses (RFC 4291, deprecated): ::a.b.c.d.
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")


class TooLarge(DomainError):
    """The calendar is larger than we read (413)."""

    status = 413
    default_code = "too_large"


class FetchRefused(Exception):
    """A feed address (or one it redirects to) that we do not connect to."""


class FetchTimedOut(Exception):
    """The download passed its deadline."""


def _allow_private() -> bool:
    return bool(getattr(settings, "CALENDAR_ALLOW_PRIVATE_URLS", False))


def embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address leads to, if it embeds one.

    IPv4-mapped (``::ffff:a.b.c.d``), IPv4-compatible (``::a.b.c.d``), NAT64
    (``64:ff9b::a.b.c.d``) and 6to4 (``2002:aabb:ccdd::``) addresses all reach an
    IPv4 host: ``[64:ff9b::7f00:1]`` is 127.0.0.1 on a network with NAT64.
    """
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_allowed(address: str) -> bool:
    """Whether we may connect to this IP address: public unicast only, unless the
    ``CALENDAR_ALLOW_PRIVATE_URLS`` setting says otherwise (tests, intranets).

    An IPv6 address that embeds an IPv4 one (see ``embedded_ipv4``) must be
    allowed on both counts.
    """
    if _allow_private():
        return True
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    candidates: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and (inner := embedded_ipv4(ip)) is not None:
        # The mapped form's own flags say nothing of the host behind it.
        candidates = [inner] if ip.ipv4_mapped is not None else [ip, inner]
    # is_global is False for loopback, private, link-local (169.254/16, cloud
    # metadata), shared (100.64/10), reserved and unspecified addresses.
    return all(c.is_global and not c.is_multicast for c in candidates)


def _resolve(host: str, port: int) -> list[tuple[Any, ...]]:
    """The addresses of ``host``, all of which must be allowed.

    Raises:
        FetchRefused: one of them is loopback, private, link-local, reserved or multicast.
        OSError: the name does not resolve.
    """
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    for info in infos:
        if not address_allowed(str(info[4][0])):
            raise FetchRefused(
                gettext("%(host)s points to a private or local network address.") % {"host": host}
            )
    return infos


def calendar_feed_url_check(url: str) -> str:
    """The feed URL, normalised, if we may fetch it.

    ``webcal://`` (what calendar apps hand out) is fetched as ``https://``.

    Raises:
        Invalid: not http(s), credentials in it, no host, a host that does not
            resolve or resolves to a loopback, private, link-local, reserved or
            multicast address (unless ``CALENDAR_ALLOW_PRIVATE_URLS``).
    """
    url = (url or "").strip()
    if not url or len(url) > FEED_URL_MAX or any(ch.isspace() or ord(ch) < 32 for ch in url):
        raise Invalid(
            gettext("Give the web address of the feed (at most %(max)s characters, no spaces).")
            % {"max": FEED_URL_MAX},
            code="calendar_url_invalid",
        )
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Invalid(
            gettext("This is not a valid web address."), code="calendar_url_invalid"
        ) from None
    scheme = parts.scheme.lower()
    if scheme in ("webcal", "webcals"):
        scheme = "https"
    if scheme not in ("http", "https"):
        raise Invalid(
            gettext("Only http:// and https:// feed addresses are fetched."),
            code="calendar_url_scheme",
        )
    if parts.username is not None or parts.password is not None:
        raise Invalid(
            gettext("Leave the user name and password out of the feed address."),
            code="calendar_url_invalid",
        )
    host = parts.hostname or ""
    if not host:
        raise Invalid(gettext("The feed address has no host name."), code="calendar_url_invalid")
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        raise Invalid(gettext("The host name is not valid."), code="calendar_url_invalid") from None
    try:
        _resolve(ascii_host, port or (443 if scheme == "https" else 80))
    except FetchRefused:
        raise Invalid(
            gettext(
                "This feed address points to a private or local network address; "
                "only public addresses are fetched."
            ),
            code="calendar_url_private",
        ) from None
    except (OSError, UnicodeError):
        raise Invalid(
            gettext("The host %(host)s could not be found.") % {"host": host},
            code="calendar_url_unresolvable",
        ) from None
    netloc = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    if port is not None:
        netloc += f":{port}"
    path = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~")
    query = quote(parts.query, safe="/%:@!$&'()*+,;=-._~?")
    normalized = urlunsplit((scheme, netloc, path, query, ""))
    if len(normalized) > FEED_URL_MAX:
        raise Invalid(
            gettext("The feed address is longer than %(max)s characters.") % {"max": FEED_URL_MAX},
            code="calendar_url_invalid",
        )
    return normalized


# -- Downloading, with the address checked on every connection and one deadline ---------------


class _Deadline:
    """The deadline of one download, enforced by a watchdog while anything blocks.

    Every connection the download opens (the first, and one per redirect) is
    registered; when the deadline passes, the watchdog shuts their sockets down,
    which wakes a read blocked in the headers or the body at once. Reads are also
    given a socket timeout no longer than the time left.
    """

    def __init__(self, seconds: float) -> None:
        self.ends_at = time.monotonic() + seconds
        self.passed = False
        self._lock = threading.Lock()
        self._connections: list[http.client.HTTPConnection] = []
        self._timer = threading.Timer(seconds, self.cut)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        with _active_lock:
            _active.add(self)
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with _active_lock:
            _active.discard(self)

    def left(self) -> float:
        return self.ends_at - time.monotonic()

    def check(self) -> None:
        if self.passed or self.left() <= 0:
            self.passed = True
            raise FetchTimedOut

    def register(self, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            self._connections.append(connection)
            cut = self.passed
        if cut:
            _shut(connection)

    def cut(self) -> None:
        with self._lock:
            self.passed = True
            connections = list(self._connections)
        for connection in connections:
            _shut(connection)


def _shut(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is None:
        return
    # socket.socket's own shutdown, also for an SSLSocket: it wakes a blocked recv
    # without touching the TLS state another thread is reading with. OSError: closed.
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


_current = threading.local()
# Every download under way in this process, so that shutdown can cut them all.
_active: set[_Deadline] = set()
_active_lock = threading.Lock()


def calendar_fetches_cancel() -> int:
    """Cut every download under way in this process now (the worker is stopping):
    each fails as "took too long" at once instead of holding shutdown up.

    Returns:
        How many were cut.
    """
    with _active_lock:
        running = list(_active)
    for deadline in running:
        deadline.cut()
    return len(running)


@contextlib.contextmanager
def fetches_cancelled_on_sigterm() -> Iterator[None]:
    """While inside, SIGTERM first cuts the downloads under way, then does what it did
    before (the worker's own graceful shutdown). Only in the main thread, where
    signal handlers live; elsewhere it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        calendar_fetches_cancel()
        if callable(previous):
            previous(signum, frame)
        elif previous == signal.SIG_DFL:
            raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _deadline() -> _Deadline | None:
    return getattr(_current, "deadline", None)


def _guarded_connect(
    address: tuple[str, int], timeout: object = None, source_address: object = None, **_: object
) -> socket.socket:
    """``socket.create_connection`` that refuses loopback, private and link-local peers.

    Checked at connect time (for the first request and every redirect), so a host
    name that resolves to a public address when added and to a private one later
    (DNS rebinding) is still refused.
    """
    host, port = address
    last_error: OSError | None = None
    deadline = _deadline()
    for family, kind, proto, _name, sockaddr in _resolve(host, port):
        if deadline is not None:
            deadline.check()
        sock = socket.socket(family, kind, proto)
        try:
            wait = timeout if isinstance(timeout, int | float) else FETCH_TIMEOUT_SECONDS
            if deadline is not None:
                wait = max(0.01, min(wait, deadline.left()))
            sock.settimeout(wait)
            sock.connect(sockaddr)
        except OSError as exc:
            sock.close()
            last_error = exc
            continue
        return sock
    raise last_error or OSError(f"could not connect to {host}")


class _GuardedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connect

    def connect(self) -> None:
        super().connect()
        if (deadline := _deadline()) is not None:
            deadline.register(self)


class _GuardedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._create_connection = _guarded_connect

    def connect(self) -> None:
        super().connect()
        if (deadline := _deadline()) is not None:
            deadline.register(self)


class _GuardedHTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPConnection, req)


class _GuardedHTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self) -> None:
        super().__init__()
        self._guarded_context = ssl.create_default_context()

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_GuardedHTTPSConnection, req, context=self._guarded_context)


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if urlsplit(newurl).scheme.lower() not in ("http", "https"):
            raise FetchRefused(gettext("The feed redirects to an address that is not http(s)."))
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener() -> urllib.request.OpenerDirector:
    # Built by hand: no file://, ftp:// or data: handlers, no proxies from the environment.
    opener = urllib.request.OpenerDirector()
    for handler in (
        _GuardedHTTPHandler(),
        _GuardedHTTPSHandler(),
        _RedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
        urllib.request.UnknownHandler(),
    ):
        opener.add_handler(handler)
    return opener


def calendar_feed_fetch(url: str, *, deadline_seconds: float = FETCH_DEADLINE_SECONDS) -> bytes:
    """Download a feed: http(s) only, public addresses only (checked on every connection,
    redirects included), ``FETCH_TIMEOUT_SECONDS`` for one read, ``deadline_seconds``
    in all (headers and body, enforced while reading), at most 2 MB.

    Only name resolution is outside the deadline (the system resolver has its own
    timeouts).

    Raises:
        TooLarge: the feed is over 2 MB.
        Invalid: ``calendar_fetch_failed`` with what went wrong.
    """

    def failed(reason: str) -> Invalid:
        return Invalid(
            gettext("The feed could not be fetched: %(reason)s") % {"reason": reason},
            code="calendar_fetch_failed",
        )

    if urlsplit(url).scheme.lower() not in ("http", "https"):
        raise failed(gettext("only http:// and https:// addresses are fetched."))
    request = urllib.request.Request(  # noqa: S310 (scheme checked above and on redirects)
        url, headers={"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    )
    too_slow = gettext("the server took too long to send it.")
    with _Deadline(deadline_seconds) as deadline:
        _current.deadline = deadline
        try:
            timeout = min(FETCH_TIMEOUT_SECONDS, deadline_seconds)
            with _opener().open(request, timeout=timeout) as response:
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit() and int(declared) > MAX_ICS_BYTES:
                    raise TooLarge(gettext("The feed is larger than 2 MB."))
                body = bytearray()
                while True:
                    deadline.check()
                    chunk = response.read1(READ_SIZE)
                    deadline.check()  # a cut socket reads as the end of the body
                    if not chunk:
                        break
                    body += chunk
                    if len(body) > MAX_ICS_BYTES:
                        raise TooLarge(gettext("The feed is larger than 2 MB."))
                return bytes(body)
        except FetchTimedOut:
            raise failed(too_slow) from None
        except FetchRefused as exc:
            raise failed(str(exc)) from None
        except urllib.error.HTTPError as exc:
            raise failed(
                gettext("the server answered %(status)s %(reason)s.")
                % {"status": exc.code, "reason": exc.reason}
            ) from None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, FetchRefused):
                raise failed(str(reason)) from None
            if deadline.passed:
                raise failed(too_slow) from None
            raise failed(f"{reason}.") from None
        except TimeoutError:
            raise failed(gettext("the server did not answer in time.")) from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if deadline.passed:
                raise failed(too_slow) from None
            raise failed(f"{type(exc).__name__}: {exc}.") from None
        finally:
            _current.deadline = None
