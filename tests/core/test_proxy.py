"""Behind nginx the client's address comes from X-Forwarded-For, only from a trusted proxy."""

from __future__ import annotations

import ipaddress

import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpResponse
from django.test import RequestFactory

from fangkong.core import proxy


@pytest.fixture
def nginx_trusted(settings):
    settings.FANGKONG_TRUSTED_PROXIES = [
        ipaddress.ip_network("127.0.0.1"),
        ipaddress.ip_network("10.0.0.0/8"),
    ]


@pytest.mark.parametrize(
    ("remote", "forwarded", "client"),
    [
        ("127.0.0.1", "203.0.113.7", "203.0.113.7"),
        # A client that writes its own header cannot choose its address.
        ("127.0.0.1", "1.2.3.4, 203.0.113.7", "203.0.113.7"),
        # Two trusted hops (a second balancer in 10/8).
        ("127.0.0.1", "203.0.113.7, 10.1.2.3", "203.0.113.7"),
        # Not relayed by a trusted proxy: the header is ignored.
        ("198.51.100.9", "203.0.113.7", "198.51.100.9"),
        ("127.0.0.1", "", "127.0.0.1"),
        ("127.0.0.1", "not-an-address", "127.0.0.1"),
    ],
)
def test_client_address(nginx_trusted, remote, forwarded, client):
    assert proxy.client_address(remote, forwarded) == client


def test_middleware_rewrites_remote_addr_for_the_audit_and_the_throttle(nginx_trusted):
    seen = []
    middleware = proxy.TrustedProxyMiddleware(
        lambda request: seen.append(request.META["REMOTE_ADDR"]) or HttpResponse()
    )
    request = RequestFactory().get("/", REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.7")
    middleware(request)
    assert seen == ["203.0.113.7"]


def test_without_trusted_proxies_the_middleware_is_not_used(settings):
    settings.FANGKONG_TRUSTED_PROXIES = []
    with pytest.raises(MiddlewareNotUsed):
        proxy.TrustedProxyMiddleware(lambda request: HttpResponse())
