"""AirflowApi.wait_for_run waits on Airflow's streaming "wait" endpoint (one request whose lines
the API server writes as the run's state changes) instead of polling GET dagRun, and opens the
stream again when the connection drops. A loopback server stands in for the API server."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

from dataops.local import api as api_module
from dataops.local.api import AirflowApi, RunInfo


@contextmanager
def _server(streams: list[list[str]]) -> Iterator[tuple[str, list[str]]]:
    """Serves each wait request the next of ``streams`` (its lines, 50 ms apart); records the paths."""
    seen: list[str] = []
    pending = iter(streams)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):  # noqa: N802
            seen.append(f"{self.path} {self.headers.get('Authorization')}")
            lines = next(pending)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for state in lines:
                body = (json.dumps({"state": state}) + "\n").encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(body), body))
                self.wfile.flush()
                time.sleep(0.05)
            self.wfile.write(b"0\r\n\r\n")  # the stream ends (the last line, or a dropped run)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", seen
    finally:
        server.shutdown()
        server.server_close()


def _client(base_url: str, monkeypatch) -> tuple[AirflowApi, list[str]]:
    client = AirflowApi.__new__(AirflowApi)
    client.base_url, client._token = base_url, "t0ken"
    reads: list[str] = []
    done = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def run(dag_id, run_id):
        reads.append(run_id)
        return RunInfo(run_id, "success", done, done)

    monkeypatch.setattr(client, "run", run)
    return client, reads


def test_a_run_is_waited_for_on_one_stream_and_read_once_at_its_end(monkeypatch):
    with _server([["queued", "running", "running", "success"]]) as (url, seen):
        client, reads = _client(url, monkeypatch)
        info = client.wait_for_run("my_dag", "manual__2026-01-01T00:00:00+00:00", timeout_s=10, poll_s=0.5)
    assert info.state == "success" and reads == ["manual__2026-01-01T00:00:00+00:00"]
    assert seen == ["/api/v2/dags/my_dag/dagRuns/manual__2026-01-01T00%3A00%3A00%2B00%3A00/wait?interval=0.5 Bearer t0ken"]


def test_a_dropped_stream_is_opened_again(monkeypatch):
    monkeypatch.setattr(api_module.time, "sleep", lambda s: None)
    with _server([["running"], ["running", "failed"]]) as (url, seen):
        client, reads = _client(url, monkeypatch)
        states = iter(["running", "failed"])  # what GET dagRun says after each stream
        monkeypatch.setattr(client, "run", lambda d, r: RunInfo(r, next(states), None, datetime.now(timezone.utc)))
        info = client.wait_for_run("my_dag", "r1", timeout_s=10)
    assert info.state == "failed" and len(seen) == 2
