"""The scheduler's sidecar that publishes the Celery queue depth (infra/images/airflow/queue-metrics)."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import io
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "images/airflow/queue-metrics"


def load():
    loader = importlib.machinery.SourceFileLoader("queue_metrics", str(SCRIPT))
    spec = importlib.util.spec_from_loader("queue_metrics", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


queue_metrics = load()


class FakeBroker:
    """Answers AUTH, LLEN and HLEN as Valkey does, from the lists and hashes it holds."""

    def __init__(self, lists: dict[str, int], unacked: int, token: str) -> None:
        self.lists, self.unacked, self.token = lists, unacked, token
        self.sent: list[bytes] = []
        self.replies = io.BytesIO()

    def send(self, data: bytes) -> None:
        self.sent.append(data)
        parts = data.split(b"\r\n")
        args = [parts[i].decode() for i in range(2, len(parts) - 1, 2)]
        position = self.replies.tell()
        self.replies.seek(0, io.SEEK_END)
        if args[0] == "AUTH":
            self.replies.write(b"+OK\r\n" if args[1] == self.token else b"-WRONGPASS invalid password\r\n")
        elif args[0] == "LLEN":
            self.replies.write(b":%d\r\n" % self.lists.get(args[1], 0))
        elif args[0] == "HLEN":
            self.replies.write(b":%d\r\n" % self.unacked)
        self.replies.seek(position)


def test_queued_counts_every_priority_list_and_running_the_unacked_hash():
    broker = FakeBroker({"default": 3, "default\x06\x166": 2, "other": 9}, unacked=4, token="t")
    assert queue_metrics.depth(broker.replies, broker.send, "t", "default") == (5, 4)
    assert broker.sent[0] == b"*2\r\n$4\r\nAUTH\r\n$1\r\nt\r\n"
    assert broker.sent[-1] == b"*2\r\n$4\r\nHLEN\r\n$7\r\nunacked\r\n"


def test_a_refused_token_is_an_error_not_a_zero():
    broker = FakeBroker({"default": 3}, unacked=0, token="right")
    with pytest.raises(RuntimeError, match="WRONGPASS"):
        queue_metrics.depth(broker.replies, broker.send, "wrong", "default")


def test_both_numbers_are_published_under_the_deployment():
    calls = []

    class CloudWatch:
        def put_metric_data(self, **kwargs):
            calls.append(kwargs)

    queue_metrics.publish(CloudWatch(), "DataOps/Airflow", "dataops", 5, 4)
    [call] = calls
    assert call["Namespace"] == "DataOps/Airflow"
    assert [(m["MetricName"], m["Value"], m["Dimensions"]) for m in call["MetricData"]] == [
        ("QueuedTasks", 5, [{"Name": "Deployment", "Value": "dataops"}]),
        ("RunningTasks", 4, [{"Name": "Deployment", "Value": "dataops"}]),
    ]
