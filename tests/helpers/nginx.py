"""Debian's nginx with ``deploy/nginx/larkspur.conf`` in front of a handoff service.

Each :class:`Nginx` lives in its own directory (configuration, pid, logs, temporary
files), listens on free loopback ports only, and serves a certificate that
:func:`make_certificate` signed with a throwaway authority for 127.0.0.1 and localhost.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.helpers.process import Service
from tools.net import free_port
from tools.serve import ROOT

NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
TEMPLATE = ROOT / "deploy" / "nginx" / "larkspur.conf"
PROXY_ADDRESS = "127.0.0.1"  # where nginx connects to the service from
# The site file goes into nginx's http {} context, as Debian's nginx.conf includes
# conf.d/*.conf; this is the rest of a main configuration, kept inside one directory.
MAIN = """daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log info;
events {{ worker_connections 512; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    include {dir}/larkspur.conf;
}}
"""


@dataclass(frozen=True)
class Certificate:
    """A server certificate and its key, and the authority that signed it (to trust)."""

    authority: Path
    chain: Path
    key: Path

    def client_context(self) -> ssl.SSLContext:
        """A client's TLS settings that trust this authority only, and check the name."""
        return ssl.create_default_context(cafile=str(self.authority))


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_certificate(directory: Path) -> Certificate:
    """A throwaway authority and a certificate it signed for 127.0.0.1 and localhost."""
    directory.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder(
            subject_name=_name("Larkspur test CA"), issuer_name=_name("Larkspur test CA")
        )
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    server = (
        x509.CertificateBuilder(subject_name=_name("localhost"), issuer_name=ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    certificate = Certificate(directory / "ca.pem", directory / "chain.pem", directory / "key.pem")
    certificate.authority.write_bytes(ca.public_bytes(pem))
    certificate.chain.write_bytes(server.public_bytes(pem) + ca.public_bytes(pem))
    certificate.key.write_bytes(
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    certificate.key.chmod(0o600)
    return certificate


def render(template: str, values: dict[str, str]) -> str:
    """The template with every ``@NAME@`` filled in; a placeholder left over is an error."""
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    left = sorted(set(re.findall(r"@[A-Z_]+@", template)))
    if left:
        raise ValueError(f"placeholders without a value: {', '.join(left)}")
    return template


class Nginx:
    """nginx on free loopback ports, proxying to the handoff service at ``upstream``."""

    def __init__(self, directory: Path, upstream: str, certificate: Certificate) -> None:
        self.dir, self.upstream, self.certificate = directory, upstream, certificate
        self.https_port, self.http_port = free_port(), free_port()
        self.origin = f"https://127.0.0.1:{self.https_port}"
        self.process: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "larkspur.conf").write_text(render(TEMPLATE.read_text(), self._values()))
        (directory / "nginx.conf").write_text(MAIN.format(dir=directory))

    def _values(self) -> dict[str, str]:
        return {
            "SERVER_NAME": "localhost 127.0.0.1",
            "PUBLIC_HOST": f"127.0.0.1:{self.https_port}",
            "HTTPS_LISTEN": f"127.0.0.1:{self.https_port}",
            "HTTP_LISTEN": f"127.0.0.1:{self.http_port}",
            "CERTIFICATE": str(self.certificate.chain),
            "CERTIFICATE_KEY": str(self.certificate.key),
            "HANDOFF": self.upstream,
        }

    def _command(self, *extra: str) -> list[str]:
        conf = self.dir / "nginx.conf"
        return [
            NGINX,
            "-p",
            str(self.dir),
            "-c",
            str(conf),
            "-e",
            str(self.dir / "error.log"),
            *extra,
        ]

    def check(self) -> None:
        """``nginx -t``: the rendered configuration is valid."""
        result = subprocess.run(self._command("-t"), capture_output=True, text=True)  # noqa: S603 - fixed argv built here, no shell
        assert result.returncode == 0, result.stderr

    def start(self, timeout: float = 15) -> None:
        """Start in the foreground (``daemon off``) and wait until the TLS port accepts."""
        if not Path(NGINX).exists():
            raise RuntimeError(f"{NGINX} is missing: `make test` installs Debian's nginx package")
        with (self.dir / "stdout.log").open("ab") as out:
            self.process = subprocess.Popen(self._command(), stdout=out, stderr=out)  # noqa: S603 - fixed argv built here, no shell
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                log = (self.dir / "error.log").read_text(errors="replace")
                raise RuntimeError(f"nginx exited with {self.process.returncode}:\n{log}")
            try:
                socket.create_connection(("127.0.0.1", self.https_port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"nginx did not listen on {self.https_port} within {timeout:.0f} s")

    def stop(self) -> None:
        """Fast shutdown (SIGTERM): open connections, sockets included, are dropped."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def access_log(self) -> str:
        path = self.dir / "access.log"
        return path.read_text() if path.exists() else ""

    def wait_for_access(self, text: str, timeout: float = 10) -> str:
        """The access log once it has ``text``: nginx writes a line when a request (or a
        socket) ends, a moment after the client saw it end."""
        deadline = time.monotonic() + timeout
        while text not in (log := self.access_log()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not in nginx's access log:\n{log}")
            time.sleep(0.05)
        return log


@contextmanager
def behind_nginx(
    directory: Path, certificate: Certificate, **env: str
) -> Iterator[tuple[Service, Nginx]]:
    """``python -m handoff`` (with ``env`` on top) that trusts nginx, nginx in front of it;
    both stopped afterwards, however the block ends."""
    service = Service(directory)
    service.env.update(HANDOFF_TRUSTED_PROXIES=PROXY_ADDRESS, **env)
    nginx = Nginx(directory / "nginx", f"127.0.0.1:{service.port}", certificate)
    try:
        service.start()
        nginx.check()
        nginx.start()
        yield service, nginx
    finally:
        nginx.stop()
        if service.process is not None:
            service.kill()
