"""``dataops up --stack services`` refuses clearly, before starting anything,
when a server is unreachable or the port is taken."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from stack_support import free_port, run_dataops  # noqa: E402

pytestmark = pytest.mark.services


def _up(tmp_path: Path, *args: str):
    env = {**os.environ, "DATAOPS_STATE_DIR": str(tmp_path / "state")}
    return run_dataops("up", "--stack", "services", "--detach", "--metadata-db", "dataops_never_created", *args, env=env)


def assert_speaks_of_the_users_world(message: str) -> None:
    """One line, sentences joined with single punctuation, no file the user does not have."""
    assert len(message.strip().splitlines()) == 1, message
    for doubled in ("?.", "..", ".;", "!."):
        assert doubled not in message, message
    assert "shared/" not in message and "development machines" not in message, message


def _closed_port() -> int:
    return free_port()  # nothing listens on a port just found free


def test_unreachable_postgres_is_named(tmp_path):
    port = _closed_port()
    result = _up(tmp_path, "--port", str(free_port()), "--pg-url", f"postgresql://postgres@127.0.0.1:{port}/wh")
    assert result.returncode == 1
    assert f"PostgreSQL at 127.0.0.1:{port}" in result.stderr and "--pg-url" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert_speaks_of_the_users_world(result.stderr)


def test_unreachable_redis_is_named(tmp_path, postgres_server):
    port = _closed_port()
    result = _up(tmp_path, "--port", str(free_port()), "--redis-url", f"redis://127.0.0.1:{port}/0")
    assert result.returncode == 1
    assert f"Redis at 127.0.0.1:{port}" in result.stderr and "--redis-url" in result.stderr, result.stderr
    assert_speaks_of_the_users_world(result.stderr)


def test_taken_port_is_named(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _up(tmp_path, "--port", str(port))
    assert result.returncode == 1
    assert f"port {port}" in result.stderr and "--port" in result.stderr, result.stderr


def test_nothing_is_left_behind_after_a_refusal(tmp_path):
    _up(tmp_path, "--port", str(free_port()), "--redis-url", f"redis://127.0.0.1:{_closed_port()}/0")
    assert not (tmp_path / "state" / "services" / "state.json").exists()
