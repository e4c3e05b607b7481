"""The agents' console as ES modules: labels match the contract, imports resolve, all served."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from contracts.triggers import TRIGGERS
from handoff.pages import STATIC
from handoff.settings import Settings
from tests.helpers.service import start

CONSOLE = STATIC / "console"
MODULES = sorted(CONSOLE.glob("*.js"))
IMPORT = re.compile(r"""^\s*import\s[^;]*?\sfrom\s+['"]([^'"]+)['"]""", re.M | re.S)


def table_keys(name: str) -> list[str]:
    """The keys of `const NAME = { key: '...', ... };` in labels.js, in order."""
    source = (CONSOLE / "labels.js").read_text()
    table = re.search(rf"\bconst {name} = \{{(.*?)\n\}};", source, re.S)
    assert table, f"no {name} table in labels.js"
    return re.findall(r"^\s*([a-z_]+)\s*:", table.group(1), re.M)


@pytest.mark.parametrize("name", ["TRIGGERS", "WHY"])
def test_the_console_labels_exactly_the_contract_triggers(name: str) -> None:
    keys = table_keys(name)
    assert len(keys) == len(set(keys)), f"{name} repeats a trigger"
    assert sorted(keys) == sorted(TRIGGERS)


def test_the_modules_exist_and_stay_small() -> None:
    names = {path.name for path in MODULES}
    assert {"main.js", "api.js", "socket.js", "queue.js", "labels.js", "dom.js"} <= names
    assert not (STATIC / "console.js").exists()
    for path in MODULES:
        assert len(path.read_text().splitlines()) <= 400, path.name


def test_every_import_names_a_module_that_exists() -> None:
    seen = 0
    for path in MODULES:
        for target in IMPORT.findall(path.read_text()):
            assert target.startswith("./") and target.endswith(".js"), (path.name, target)
            assert (CONSOLE / target[2:]).is_file(), f"{path.name} imports missing {target}"
            seen += 1
    assert seen > 0


def test_the_console_never_writes_html() -> None:
    """Message text reaches the page only as text: no innerHTML and friends anywhere."""
    for path in MODULES:
        source = path.read_text()
        assert not re.search(
            r"innerHTML\s*=|outerHTML|insertAdjacentHTML|document\.write|eval\(", source
        ), path.name


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[TestClient]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'handoff.db'}",
        rasa_url="http://127.0.0.1:9",
    )
    running = await start(settings)
    yield running
    await running.close()


async def test_the_page_loads_the_entry_module_and_every_module_is_served(
    client: TestClient,
) -> None:
    page = await client.get("/console")
    assert page.status == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert '<script type="module" src="/static/console/main.js"></script>' in await page.text()
    for path in MODULES:
        response = await client.get(f"/static/console/{path.name}")
        assert response.status == 200, path.name
        assert "javascript" in response.headers["Content-Type"], path.name  # modules need a JS type
