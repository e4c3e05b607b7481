"""The handoff service as its own process (``python -m handoff``), to kill and start again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp

from tests.helpers.service import SERVICE_TOKEN
from tools.net import free_port, wait_http
from tools.serve import ROOT

PASSWORD = "restart-password"  # noqa: S105 - a test credential; guards nothing real


class Service:
    """``python -m handoff`` on a fixed port and database, to kill and start again."""

    def __init__(self, tmp_path: Path) -> None:
        self.port, self.log = free_port(), tmp_path / "handoff.log"
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = dict(
            os.environ,
            HANDOFF_PORT=str(self.port),
            HANDOFF_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'handoff.db'}",
            HANDOFF_SERVICE_TOKEN=SERVICE_TOKEN,
            HANDOFF_RASA_URL="http://127.0.0.1:9",
            HANDOFF_AGENT_PASSWORD=PASSWORD,
        )
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "handoff"], cwd=ROOT, env=self.env, stdout=out, stderr=out
            )
        wait_http(self.url + "/healthz", self.process, 30, self.log)

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def add_agent(self, name: str) -> None:
        command = [sys.executable, "-m", "handoff", "add-agent", name]
        subprocess.run(command, cwd=ROOT, env=self.env, check=True, capture_output=True)  # noqa: S603 - fixed argv built here, no shell


async def post(http: aiohttp.ClientSession, url: str, body: Any, token: str = "") -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with http.post(url, json=body, headers=headers) as response:
        assert response.status in (200, 201), await response.text()
        return await response.json()
