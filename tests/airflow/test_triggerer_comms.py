"""The triggerer's supervisor reads its runner's logs while it waits to send a large reply.

A stand-in runner does what Airflow 3.3.2's trigger runner does when the
triggerer stalls: it writes log records with blocking writes and reads the
reply only when they are all written. Airflow's own ``send_msg`` and the
runner would wait on each other for good; the patched one finishes.
"""

from __future__ import annotations

import selectors
import socket
import threading
from types import SimpleNamespace

from dataops.airflow import triggerer_comms

REPLY = 8 * 2**20  # far more than a socket buffers
LOGS = 8 * 2**20


def _supervisor(requests: socket.socket, logs: socket.socket, received: list[int]):
    selector = selectors.DefaultSelector()

    def read_logs(sock) -> bool:
        chunk = sock.recv(65536)
        received.append(len(chunk))
        return bool(chunk)

    def on_close(sock) -> None:
        selector.unregister(sock)

    selector.register(logs, selectors.EVENT_READ, (read_logs, on_close))
    selector.register(requests, selectors.EVENT_READ, (lambda sock: True, on_close))  # never read while sending
    return SimpleNamespace(stdin=requests, selector=selector)


def test_a_reply_larger_than_the_socket_is_sent_while_the_runner_blocks_writing_logs():
    requests, runner_requests = socket.socketpair()
    logs, runner_logs = socket.socketpair()
    received: list[int] = []
    supervisor = _supervisor(requests, logs, received)
    reply = bytearray()

    def runner() -> None:
        runner_logs.sendall(b"x" * LOGS)  # blocks until the supervisor reads the logs
        runner_logs.close()
        while len(reply) < REPLY:
            reply.extend(runner_requests.recv(1 << 20))

    thread = threading.Thread(target=runner, daemon=True)
    thread.start()
    triggerer_comms.send_draining(supervisor, b"r" * REPLY)
    thread.join(timeout=120)

    assert not thread.is_alive(), "the runner is still waiting"
    assert bytes(reply) == b"r" * REPLY
    assert sum(received) == LOGS
    assert logs.fileno() == -1  # its end of file seen: closed and unregistered, as Airflow's loop does
    assert requests.gettimeout() is None  # blocking again, as Airflow left it


def test_the_patch_applies_to_the_pinned_airflow_only():
    from airflow.jobs import triggerer_job_runner

    assert triggerer_comms.changed_internals() == []
    assert triggerer_comms.patch(triggerer_job_runner)
    send_msg = triggerer_job_runner.TriggerRunnerSupervisor.send_msg
    assert getattr(send_msg, "__dataops_draining_send__", False)
