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


def test_a_handler_whose_socket_was_emptied_since_the_wait_does_not_block():
    """The loop's select reported the log socket readable; send_draining then read it (its handler,
    the same one); the loop's turn for that socket comes next and must not wait in recv."""
    import selectors

    logs, runner_logs = socket.socketpair()
    read: list[bytes] = []

    def handler(sock) -> bool:  # Airflow's reader: a blocking recv, as in supervisor.py
        chunk = sock.recv(65536)
        read.append(chunk)
        return bool(chunk)

    supervisor = SimpleNamespace(selector=selectors.DefaultSelector())
    supervisor.selector.register(logs, selectors.EVENT_READ, (handler, lambda sock: None))
    triggerer_comms.guard_handlers(supervisor)
    triggerer_comms.guard_handlers(supervisor)  # once only

    runner_logs.sendall(b"a log record\n")
    events = supervisor.selector.select(timeout=5)
    assert [key.fileobj for key, _ in events] == [logs]
    guarded, _ = events[0][0].data
    assert guarded.__wrapped__ is handler
    assert guarded(logs) is True and read == [b"a log record\n"]  # what send_draining does meanwhile

    turn = threading.Thread(target=lambda: read.append(guarded(logs)), daemon=True)
    turn.start()  # the loop's own turn, on the stale event
    turn.join(timeout=10)
    assert not turn.is_alive(), "the handler waits in recv on an emptied socket"
    assert read[-1] is True  # nothing read; the socket stays registered
    runner_logs.close()
    assert guarded(logs) is False  # its end is still seen and closes it
    logs.close()
    assert guarded(logs) is True  # closed by send_draining meanwhile: left to its on_close, not read


def test_the_patched_supervisor_registers_guarded_handlers():
    import selectors

    class Supervisor:
        def __init__(self):
            self.selector = selectors.DefaultSelector()

        def _register_pipe_readers(self, sock):
            self.selector.register(sock, selectors.EVENT_READ, (lambda s: True, lambda s: None))

        def send_msg(self, msg, request_id, error=None, **dump_opts):
            pass

    assert triggerer_comms.patch(SimpleNamespace(TriggerRunnerSupervisor=Supervisor))
    supervisor, (one, other) = Supervisor(), socket.socketpair()
    supervisor._register_pipe_readers(one)
    (key,) = supervisor.selector.get_map().values()
    assert getattr(key.data[0], "__dataops_read_when_ready__", False)
    one.close()
    other.close()
