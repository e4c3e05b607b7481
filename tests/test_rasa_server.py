"""The Rasa launcher serves the studio's published model once there is one, behind its token."""

from __future__ import annotations

from pathlib import Path

from tools.rasa_server import live_model, rasa_argv

ARGV = ["--port", "5005", "--model", "models/larkspur-abc.tar.gz", "--endpoints", "e.yml"]


def test_without_a_published_model_the_given_one_is_served(tmp_path: Path) -> None:
    assert live_model(ARGV, "") == ARGV
    assert live_model(ARGV, str(tmp_path / "live-model")) == ARGV  # no pointer yet
    (tmp_path / "live-model").write_text(str(tmp_path / "gone.tar.gz"))
    assert live_model(ARGV, str(tmp_path / "live-model")) == ARGV  # its model was removed


def test_a_published_model_replaces_the_given_one(tmp_path: Path) -> None:
    model = tmp_path / "versions" / "3" / "model.tar.gz"
    model.parent.mkdir(parents=True)
    model.write_bytes(b"a model")
    (tmp_path / "live-model").write_text(f"{model}\n")
    served = live_model(ARGV, str(tmp_path / "live-model"))
    assert served == ["--port", "5005", "--model", str(model), "--endpoints", "e.yml"]


def test_a_token_that_starts_with_a_dash_reaches_rasa_whole() -> None:
    from rasa.__main__ import create_argument_parser

    token = "-Zq3_x"  # noqa: S105 - a made-up key: token_urlsafe starts one in 64 with "-"
    parsed = create_argument_parser().parse_args(rasa_argv(token, ARGV)[1:])
    assert parsed.auth_token == token
    assert parsed.enable_api
    assert parsed.port == 5005
