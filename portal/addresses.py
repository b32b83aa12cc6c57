"""The address a request came from, as the login lockout and the audit trail record it."""

from __future__ import annotations

import ipaddress

from django.conf import settings


def client_ip(request) -> str:
    """REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address the outermost of them saw.

    Each proxy appends the address it was reached from to X-Forwarded-For, so with N proxies the
    client is the N-th entry from the right; what a client writes into the header itself stays to
    the left of it and is never read. Behind a proxy every request's REMOTE_ADDR is the proxy's:
    reading it there would lock everyone out after one person's failed logins.
    """
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if not proxies:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    if len(hops) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(hops[-proxies]))
    except ValueError:
        return remote
