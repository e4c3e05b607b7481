"""A real handoff service process behind a real nginx (deploy/nginx/larkspur.conf), on
loopback only: the service trusts nginx's address (127.0.0.1) and nobody else's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.nginx import Certificate, Nginx, behind_nginx, make_certificate
from tests.helpers.process import Service


@pytest.fixture
def certificate(tmp_path: Path) -> Certificate:
    return make_certificate(tmp_path / "tls")


@pytest.fixture
def deployed(tmp_path: Path, certificate: Certificate) -> Iterator[tuple[Service, Nginx]]:
    with behind_nginx(tmp_path, certificate) as both:
        yield both


@pytest.fixture
def service(deployed: tuple[Service, Nginx]) -> Service:
    """``python -m handoff`` that believes X-Forwarded-* from nginx only."""
    return deployed[0]


@pytest.fixture
def proxy(deployed: tuple[Service, Nginx]) -> Nginx:
    """nginx with the shipped configuration in front of ``service``."""
    return deployed[1]
