"""A real handoff service process behind a real nginx (deploy/nginx/larkspur.conf), on
loopback only: the service trusts nginx's address (127.0.0.1) and nobody else's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.nginx import Certificate, Nginx, make_certificate
from tests.helpers.process import Service

PROXY_ADDRESS = "127.0.0.1"  # where nginx connects to the service from


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return make_certificate(tmp_path / "tls")


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    """``python -m handoff`` that believes X-Forwarded-* from nginx only."""
    running = Service(tmp_path)
    running.env["HANDOFF_TRUSTED_PROXIES"] = PROXY_ADDRESS
    try:
        running.start()
        yield running
    finally:
        if running.process is not None:
            running.kill()


@pytest.fixture
def proxy(tmp_path: Path, service: Service, certificate: Certificate) -> Iterator[Nginx]:
    nginx = Nginx(tmp_path / "nginx", f"127.0.0.1:{service.port}", certificate)
    nginx.check()
    nginx.start()
    yield nginx
    nginx.stop()
