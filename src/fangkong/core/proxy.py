"""The client's address behind a load balancer (nginx in front of several app servers).

Behind a proxy every request comes from the proxy's address, which would make the audit
trail useless and the login throttle lock everyone out together after five wrong passwords.
When the peer is one of ``FANGKONG_TRUSTED_PROXIES``, the client is the right-most address
of ``X-Forwarded-For`` that is not itself a trusted proxy (addresses further left were
written by the client and prove nothing); ``REMOTE_ADDR`` is replaced by it, so the rest
of the code keeps reading ``REMOTE_ADDR``. Requests from anywhere else keep their peer.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed


def trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in settings.FANGKONG_TRUSTED_PROXIES)


def client_address(remote: str, forwarded_for: str) -> str:
    """The client's address given the peer and the X-Forwarded-For header."""
    if not forwarded_for or not trusted(remote):
        return remote
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not trusted(hop):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote  # a garbled header: keep the proxy's address
    return hops[0] if hops else remote


class TrustedProxyMiddleware:
    """Sets ``REMOTE_ADDR`` to the client's address for requests relayed by a trusted proxy;
    removes itself when no proxy is trusted."""

    def __init__(self, get_response: Any) -> None:
        if not settings.FANGKONG_TRUSTED_PROXIES:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: Any) -> Any:
        meta = request.META
        meta["REMOTE_ADDR"] = client_address(
            meta.get("REMOTE_ADDR", ""), meta.get("HTTP_X_FORWARDED_FOR", "")
        )
        return self.get_response(request)
