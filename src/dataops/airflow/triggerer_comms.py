"""The triggerer's supervisor keeps reading its runner's logs while it waits to send it a reply.

Airflow 3.3.2's triggerer is two processes joined by sockets: the supervisor
(database work) and the trigger runner (the triggers' event loop). The runner
writes each log record of a trigger to the supervisor with a blocking write
on its log socket, from its event loop; the supervisor answers the runner's
requests with a blocking ``sendall`` on the requests socket
(``WatchedSubprocess.send_msg``). A reply larger than what the socket buffers
hold (a ``TriggerStateSync`` carrying a batch of new triggers, the XCom
report of a run of a thousand models, the task states of its run) waits for
the runner to read it; if the runner is meanwhile writing log records faster
than a full log socket takes them, both wait on each other for good: the
runner's event loop stops, no trigger fires, and a run of a thousand model
tasks stalls with every task deferred (seen here; py-spy shows the supervisor
in ``send_msg`` and the runner in structlog's ``BytesLogger.msg``).

The fix, narrow: ``TriggerRunnerSupervisor.send_msg`` sends the same frame
without blocking, and while the socket has no room it reads whatever the
runner wrote on its other sockets (logs, stdout, stderr) with the handlers
the supervisor registered for them, as its own loop would; it never reads the
requests socket there (a request is answered only after this reply). The
runner's log writes then always complete, its event loop reads the reply, and
the send finishes. ``patches/airflow-triggerer-one-task-workload.patch`` has
the same change to Airflow itself.

Reading a socket there can empty it after the supervisor's loop was told it
was readable, in the same ``select`` whose events it is still handling: the
loop's next handler would then block in ``recv`` on an empty socket, and the
supervisor with it (seen on a 1,000-model run: the loop in ``recv_into`` on the
log socket, the runner waiting for a reply). So every handler the supervisor
registers reads only when its socket is readable at that moment
(:func:`reading_when_ready`).
"""

from __future__ import annotations

import logging
import select
import socket

from dataops.airflow import patching

log = logging.getLogger(__name__)

TRIGGERER_MODULE = "airflow.jobs.triggerer_job_runner"
RELIES_ON = {
    # The frame it sends, and how (self.stdin.sendall of frame.as_bytes()).
    "airflow.sdk.execution_time.supervisor:WatchedSubprocess.send_msg": "d3c61a83d1b9e4ef69369486341758c1ad4a9932423208f4c38ba520ef457ca3",
    # The selector's entries: data is (handler(sock) -> need more, on_close(sock)); a closed socket is closed.
    "airflow.sdk.execution_time.supervisor:WatchedSubprocess._service_subprocess": "42a762c7c8aa4ea5f828154b0063be02bbb7aa90c62c0df2563e7f421e3445bd",
    # Which sockets the triggerer's supervisor registers (stdin is the requests socket).
    "airflow.jobs.triggerer_job_runner:TriggerRunnerSupervisor._register_pipe_readers": "d71f0a92be3727ad343d409b13f3c2e3e8d7c1d0ac9ff14c1691693624f7c875",
    "airflow.jobs.triggerer_job_runner:TriggerRunnerSupervisor._handle_request": "76b620264138c7da7ff3a9d49598b502712e6f29b1bca18eba9ddbd95513233b",
    # The runner writes requests without blocking (asyncio), so only its log writes can block it.
    "airflow.jobs.triggerer_job_runner:TriggerCommsDecoder.asend": "4c7e3a98d044664d8d5b6e3a4ac51aae8661aa3c58f1953f2d3f0198d999e567",
}
_PATCHED = "__dataops_draining_send__"
_GUARDED = "__dataops_read_when_ready__"
# How long one wait for room or for the runner's output lasts before looking again (s).
_WAIT_S = 1.0


def changed_internals() -> list[str]:
    return patching.changed(RELIES_ON)


def reading_when_ready(handler):
    """``handler(sock)``, called only if ``sock`` has something to read now (data or its end);
    otherwise the socket stays registered (True), for the next wait to report."""

    def read(sock) -> bool:
        if sock.fileno() < 0:  # closed meanwhile, on its end, by send_draining (with its on_close)
            return True
        ready, _, _ = select.select([sock], [], [], 0)
        return handler(sock) if ready else True

    read.__wrapped__ = handler
    setattr(read, _GUARDED, True)
    return read


def guard_handlers(supervisor) -> None:
    """Every socket the supervisor reads: its handler wrapped by :func:`reading_when_ready`."""
    import selectors

    for key in list(supervisor.selector.get_map().values()):
        handler, on_close = key.data
        if not getattr(handler, _GUARDED, False):
            supervisor.selector.modify(key.fileobj, selectors.EVENT_READ, (reading_when_ready(handler), on_close))


def send_draining(supervisor, data: bytes) -> None:
    """``supervisor.stdin.sendall(data)``, reading the subprocess's other sockets whenever it has to wait."""
    sock: socket.socket = supervisor.stdin
    guard_handlers(supervisor)  # any socket registered since the start, before this send reads it
    view = memoryview(data)
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        while view:
            try:
                view = view[sock.send(view):]
                continue
            except (BlockingIOError, InterruptedError):
                pass
            others = {
                key.fileobj: key.data
                for key in list(supervisor.selector.get_map().values())
                if key.fileobj is not sock
            }
            readable, _, _ = select.select(list(others), [sock], [], _WAIT_S)
            for fileobj in readable:
                handler, on_close = others[fileobj]
                try:
                    need_more = handler(fileobj)
                except (BrokenPipeError, ConnectionResetError):
                    need_more = False
                if not need_more:
                    on_close(fileobj)
                    fileobj.close()
    finally:
        sock.settimeout(timeout)


def patch(module) -> bool:
    """Patch ``TriggerRunnerSupervisor.send_msg`` of the triggerer's ``module``; False when it must not."""
    supervisor_cls = module.TriggerRunnerSupervisor
    if getattr(supervisor_cls.send_msg, _PATCHED, False):
        return True
    found = changed_internals()
    if found:
        patching.refuse(__name__, found, "The triggerer can stall when a reply to its runner outgrows the socket.")
        return False
    from airflow.sdk.execution_time.comms import _ResponseFrame

    def send_msg(self, msg, request_id: int, error=None, **dump_opts):
        if msg:
            frame = _ResponseFrame(id=request_id, body=self._serialize_response(msg, **dump_opts))
        else:
            err_resp = self._serialize_response(error) if error else None
            frame = _ResponseFrame(id=request_id, error=err_resp)
        send_draining(self, frame.as_bytes())

    original_register = supervisor_cls._register_pipe_readers

    def _register_pipe_readers(self, *args, **kwargs):
        original_register(self, *args, **kwargs)
        guard_handlers(self)

    for new, old in ((send_msg, supervisor_cls.send_msg), (_register_pipe_readers, original_register)):
        setattr(new, _PATCHED, True)
        new.__wrapped__ = old
    supervisor_cls.send_msg, supervisor_cls._register_pipe_readers = send_msg, _register_pipe_readers
    log.info("dataops: the triggerer's supervisor reads its runner's logs while it waits to reply, "
             "and a socket only when it is readable (%s)", __name__)
    return True


def install() -> None:
    """Apply the fix in this process: now if the triggerer's module is loaded, else when it is."""
    patching.on_import(TRIGGERER_MODULE, patch)
