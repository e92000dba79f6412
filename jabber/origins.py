"""The WebSocket Origin check: the origin must match in scheme, host and port (SPEC §15)."""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.http.request import split_domain_port, validate_host

DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin_tuple(scheme: str, host: str, port: int | None) -> tuple[str, str, int | None]:
    return scheme, host.lower(), port if port is not None else DEFAULT_PORTS.get(scheme)


def _parse(origin: str) -> tuple[str, str, int | None] | None:
    try:
        parts = urlsplit(origin)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return _origin_tuple(parts.scheme, parts.hostname, port)


def _header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def own_scheme_and_port(scope: dict) -> tuple[str, int | None]:
    """The scheme and port the client reached this server on (its page's origin)."""
    secure = scope.get("scheme") in ("wss", "https")
    proxy_header = getattr(settings, "SECURE_PROXY_SSL_HEADER", None)
    if proxy_header:
        # Behind a TLS-terminating proxy that says so (HTTP_X_FORWARDED_PROTO -> x-forwarded-proto).
        name = proxy_header[0].removeprefix("HTTP_").replace("_", "-").lower().encode()
        secure = secure or _header(scope, name) == proxy_header[1]
    scheme = "https" if secure else "http"
    host = _header(scope, b"host")
    if host:
        _, port = split_domain_port(host)
        return scheme, int(port) if port else DEFAULT_PORTS[scheme]
    server = scope.get("server")
    return scheme, (server[1] if server and server[1] else DEFAULT_PORTS[scheme])


def _trusted(origin: tuple[str, str, int | None]) -> bool:
    """Whether an origin is one of DJANGO_CSRF_TRUSTED_ORIGINS (``*.`` matches subdomains)."""
    scheme, host, port = origin
    for value in settings.CSRF_TRUSTED_ORIGINS:
        trusted = _parse(value.replace("://*.", "://wildcard."))
        if trusted is None or trusted[0] != scheme or trusted[2] != port:
            continue
        if "://*." in value:
            if host.endswith(trusted[1].removeprefix("wildcard")):
                return True
        elif trusted[1] == host:
            return True
    return False


def origin_allowed(scope: dict) -> bool:
    """Whether the handshake's Origin is trusted, or an allowed host on our own scheme and port."""
    origin = _header(scope, b"origin")
    parsed = _parse(origin) if origin else None
    if parsed is None:
        return False
    if _trusted(parsed):
        return True
    scheme, host, port = parsed
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = [".localhost", "127.0.0.1", "[::1]"]
    if not validate_host(f"[{host}]" if ":" in host else host, allowed_hosts):
        return False
    return (scheme, port) == own_scheme_and_port(scope)


class Denier(WebsocketDenier):
    """Refuses a handshake (403) without a channel of its own: a foreign Origin, an
    unknown socket path (``chat.routing``).

    Channels' denier subscribes like any consumer and waits on the channel layer
    until the client leaves; on Redis that receive can lose its cancellation
    (``chat.realtime.cancellation``) and keep a closing loop waiting for ever. A
    refused socket has nothing to hear.
    """

    channel_layer_alias = None


class OriginValidator:
    """Refuses a WebSocket handshake (403) whose Origin is not allowed; passes others on."""

    def __init__(self, application) -> None:
        self.application = application

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and not origin_allowed(scope):
            return await Denier()(scope, receive, send)
        return await self.application(scope, receive, send)
