"""Which backend connections (PostgreSQL, Redis) would travel without verified TLS.

Production refuses to start with such a connection to another machine
(docs/decisions/0770-tls-to-every-backend.md). A connection over a Unix socket or
to the loopback address never leaves the machine and is accepted as it is.
"""

from ipaddress import ip_address
from urllib.parse import parse_qs, urlsplit

VERIFIED_SSLMODES = {"verify-full"}
LOOPBACK_NAMES = {"localhost"}


def is_local_host(host: str | None) -> bool:
    """True for a Unix socket (empty host or a path) or a loopback address."""
    if not host or host.startswith("/"):
        return True
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def database_problem(settings_dict: dict) -> str | None:
    """Why this DATABASES entry is not verified TLS to a remote host, or None."""
    if is_local_host(settings_dict.get("HOST")):
        return None
    sslmode = settings_dict.get("OPTIONS", {}).get("sslmode")
    if sslmode not in VERIFIED_SSLMODES:
        return (
            f"DATABASE_URL reaches {settings_dict.get('HOST')} with sslmode={sslmode or 'unset'}; "
            "use ?sslmode=verify-full&sslrootcert=<CA file>"
        )
    return None


def redis_problem(name: str, url: str) -> str | None:
    """Why this Redis URL is not verified TLS to a remote host, or None."""
    parts = urlsplit(url)
    if parts.scheme == "unix" or is_local_host(parts.hostname):
        return None
    query = parse_qs(parts.query)
    cert_reqs = query.get("ssl_cert_reqs", [""])[0].lower()
    if parts.scheme != "rediss" or cert_reqs not in {"required", "cert_required"}:
        return (
            f"{name} reaches {parts.hostname} without verified TLS; "
            "use rediss://…?ssl_cert_reqs=required&ssl_ca_certs=<CA file>"
        )
    return None


def plaintext_backends(database: dict, redis_urls: dict[str, str]) -> list[str]:
    """Every backend connection that would leave the machine without verified TLS."""
    problems = [database_problem(database)]
    problems += [redis_problem(name, url) for name, url in redis_urls.items()]
    return [problem for problem in problems if problem]
