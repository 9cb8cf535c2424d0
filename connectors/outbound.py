"""Where the ZSI-REST connector may connect: the platform's only outbound HTTP client
(ASVS 5.2.6, 12.6.1; decision 0810).

A URL passes when its scheme is in ``ZSI_REST_SCHEMES`` (https only in production),
its host and port match a pattern of ``ZSI_REST_ALLOWED_HOSTS`` and every address the
host resolves to is public, unless it lies in ``ZSI_REST_ALLOWED_NETWORKS``. The URL is
checked when an operator configures the connector and before every request; the
addresses are checked again when the connection is opened, and the connection goes to
the address that was checked, so a name that resolves differently later (DNS rebinding)
reaches nothing. Redirects to another scheme, host or port are refused: the bearer
token would follow them. No proxy from the environment is used.
"""

import http.client
import ipaddress
import socket
import ssl
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from connectors.registry import ConnectorError

DEFAULT_PORTS = {"http": 80, "https": 443}


class DestinationRefused(ConnectorError):
    """The URL or the address it resolves to is not one the platform connects to."""


def _host_matches(pattern: str, host: str, port: int, default_port: int) -> bool:
    name, want = pattern.lower(), str(default_port)
    if name.endswith(":*") or name.rpartition(":")[2].isdigit() and not name.endswith("]"):
        name, _sep, want = name.rpartition(":")
    name = name.strip("[]")
    if want != "*" and want != str(port):
        return False
    if name.startswith("*."):
        return host.endswith(name[1:])
    return host == name


def _allowed_network(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    return any(
        address in ipaddress.ip_network(network, strict=False)
        for network in settings.ZSI_REST_ALLOWED_NETWORKS
    )


def check_address(host: str, address: str) -> None:
    """Refuse loopback, private, link-local (cloud metadata), shared, reserved and
    multicast addresses unless their network is explicitly allowed."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if getattr(ip, "ipv4_mapped", None):
        ip = ip.ipv4_mapped
    if _allowed_network(ip):
        return
    if not ip.is_global or ip.is_multicast:
        raise DestinationRefused(
            _(
                "%(host)s resolves to %(address)s, an address the platform does not connect "
                "to (loopback, private, link-local or metadata)"
            )
            % {"host": host, "address": ip}
        )


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def check_url(url: str, *, resolve: bool = True) -> None:
    """Raise ``DestinationRefused`` unless the connector may connect to ``url``.

    With ``resolve``, a host that resolves to a refused address is refused too; a name
    that does not resolve now passes (the connection will check it again)."""
    try:
        parts = urlsplit(url)
        host, port = (parts.hostname or "").lower(), parts.port
    except ValueError:
        host = port = None
    if not host:
        raise DestinationRefused(_("%(url)s is not a valid address") % {"url": url})
    if parts.scheme not in settings.ZSI_REST_SCHEMES:
        raise DestinationRefused(
            _("%(url)s: only %(schemes)s addresses are allowed")
            % {"url": url, "schemes": ", ".join(f"{s}://" for s in settings.ZSI_REST_SCHEMES)}
        )
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused(
            _("%(url)s: a user name or password in the address is not allowed") % {"url": url}
        )
    default_port = DEFAULT_PORTS[parts.scheme]
    port = port or default_port
    if not any(_host_matches(p, host, port, default_port) for p in settings.ZSI_REST_ALLOWED_HOSTS):
        raise DestinationRefused(
            _("%(host)s (port %(port)s) is not an allowed ZSI host (ZSI_REST_ALLOWED_HOSTS)")
            % {"host": host, "port": port}
        )
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        if not _allowed_network(literal):
            raise DestinationRefused(
                _("%(host)s: an IP address is accepted only inside ZSI_REST_ALLOWED_NETWORKS")
                % {"host": host}
            )
        return
    if resolve:
        try:
            addresses = _resolve(host, port)
        except OSError:
            return
        for address in addresses:
            check_address(host, address)


def _connect_checked(address, timeout=socket._GLOBAL_DEFAULT_TIMEOUT, source_address=None):
    """``socket.create_connection`` to an address that was checked just now."""
    host, port = address
    addresses = _resolve(host, port)
    for resolved in addresses:
        check_address(host, resolved)
    error = None
    for resolved in addresses:
        try:
            return socket.create_connection((resolved, port), timeout, source_address)
        except OSError as exc:
            error = exc
    raise error or OSError(f"{host} has no address")


class _CheckedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _connect_checked


class _CheckedHTTPSConnection(http.client.HTTPSConnection):
    # The TLS handshake still names and verifies the host, not the address.
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._create_connection = _connect_checked


class _HTTPHandler(urllib.request.HTTPHandler):
    def http_open(self, req):
        return self.do_open(_CheckedHTTPConnection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def https_open(self, req):
        return self.do_open(_CheckedHTTPSConnection, req, context=self._context)


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        old, new = urlsplit(req.full_url), urlsplit(newurl)
        if (new.scheme, new.hostname, new.port) != (old.scheme, old.hostname, old.port):
            fp.close()
            raise DestinationRefused(
                _(
                    "a redirect from %(origin)s to %(target)s was refused: the connector "
                    "follows no redirect to another host"
                )
                % {"origin": f"{old.scheme}://{old.netloc}", "target": newurl}
            )
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def opener() -> urllib.request.OpenerDirector:
    """http(s) only, checked connections, same-origin redirects, no proxies."""
    director = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.UnknownHandler(),
        _HTTPHandler(),
        _HTTPSHandler(context=ssl.create_default_context()),
        urllib.request.HTTPDefaultErrorHandler(),
        _SameOriginRedirects(),
        urllib.request.HTTPErrorProcessor(),
    ):
        director.add_handler(handler)
    return director
