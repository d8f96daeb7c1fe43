"""The trigger runner's nap, cut short when one of the platform's triggers has fired.

The shim relies on the pinned Airflow's loop as it is (see
dataops.airflow.triggerer_wake); the first test fails loudly when an upgrade
changes it. The others drive the shim with anyio's real cancel scopes, in a
loop shaped like TriggerRunner.arun's, and check which naps ended early, not
how long anything took.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import types

import anyio
import pytest

from dataops.airflow import triggerer_wake
from dataops.airflow.triggerer_wake import LOG_GRACE_S, MIN_GAP_S, RUNNER_MODULE, RUNNER_NAP_S


def test_the_pinned_airflows_trigger_runner_still_naps_as_the_shim_expects():
    from airflow.jobs import triggerer_job_runner as runner

    arun = inspect.getsource(runner.TriggerRunner.arun)
    nap = f"with anyio.move_on_after({RUNNER_NAP_S}):"
    assert nap in arun and "await stop_event.wait()" in arun, (
        "Airflow's TriggerRunner.arun no longer naps with `anyio.move_on_after(1)`: "
        "update dataops.airflow.triggerer_wake (and its patch) to the new loop"
    )
    # Each loop first collects the finished trigger tasks, then sends their events.
    loop = arun[arun.index("while not self.stop"):]
    assert loop.index("cleanup_finished_triggers") < loop.index("sync_state_to_supervisor") < loop.index(nap)
    assert 'details["task"].done()' in inspect.getsource(runner.TriggerRunner.cleanup_finished_triggers)
    # A fired event is queued before the trigger's task ends.
    run_trigger = inspect.getsource(runner.TriggerRunner.run_trigger)
    assert "self.events.append(" in run_trigger
    # The module uses anyio only for its nap and its stop event: the shim passes the rest through.
    source = inspect.getsource(runner)
    used = {line.split("anyio.", 1)[1].split("(")[0] for line in source.splitlines() if "anyio." in line}
    assert used <= {"Event", "Event | None = None", "move_on_after"}, used


@pytest.fixture
def runner_module(monkeypatch):
    """A stand-in for the trigger runner's module, with the shim installed in it."""
    module = types.ModuleType(RUNNER_MODULE)
    module.anyio = anyio
    monkeypatch.setitem(sys.modules, RUNNER_MODULE, module)
    monkeypatch.setattr(triggerer_wake._Nap, "scope", None)
    monkeypatch.setattr(triggerer_wake._Nap, "pending", False)
    monkeypatch.setattr(triggerer_wake._Nap, "last_woken", 0.0)
    assert triggerer_wake.install() and triggerer_wake.installed()
    assert triggerer_wake.install()  # once only
    return module


async def _trigger_that_fires():
    triggerer_wake.wake_when_done()
    await asyncio.sleep(0)


def test_a_finished_trigger_ends_the_runners_nap(runner_module):
    async def main():
        loop = asyncio.get_running_loop()
        stop_event = runner_module.anyio.Event()
        began = loop.time()
        with runner_module.anyio.move_on_after(RUNNER_NAP_S) as nap:
            loop.call_soon(asyncio.create_task, _trigger_that_fires())
            await stop_event.wait()
        return nap, loop.time() - began

    nap, napped = asyncio.run(main())
    assert nap.cancelled_caught, "the nap ran its whole second"
    assert napped >= LOG_GRACE_S, "the runner was woken before the trigger's last log records could reach it"
    assert triggerer_wake._Nap.scope is None  # known only while it lasts


def test_a_trigger_finished_while_the_runner_works_skips_its_next_nap(runner_module):
    async def main():
        await asyncio.create_task(_trigger_that_fires())  # no nap in progress
        await asyncio.sleep(LOG_GRACE_S * 2)  # its log's grace
        assert triggerer_wake._Nap.pending
        triggerer_wake._Nap.last_woken = 0.0
        with runner_module.anyio.move_on_after(RUNNER_NAP_S) as nap:
            deadline = nap.deadline - asyncio.get_running_loop().time()
            await runner_module.anyio.Event().wait()
        return deadline

    assert asyncio.run(main()) <= MIN_GAP_S
    assert not triggerer_wake._Nap.pending


def test_woken_loops_keep_the_minimum_gap(runner_module):
    async def main():
        loop = asyncio.get_running_loop()
        naps = []
        for _ in range(2):
            began = loop.time()
            with runner_module.anyio.move_on_after(RUNNER_NAP_S) as nap:
                loop.call_soon(triggerer_wake._wake)  # as a trigger's wake-up does once its grace is over
                await runner_module.anyio.Event().wait()
            naps.append((nap, nap.deadline - began))
        return naps

    (first, first_length), (second, second_length) = asyncio.run(main())
    # The first wake cancels its nap at once; the second, right after it, ends its nap at the gap's end.
    assert first.cancelled_caught and first_length == pytest.approx(RUNNER_NAP_S, abs=0.2)
    assert second.cancelled_caught and second_length <= MIN_GAP_S


def test_other_naps_and_names_pass_through(runner_module):
    assert runner_module.anyio.Event is anyio.Event

    async def main():
        return runner_module.anyio.move_on_after(5)

    assert isinstance(asyncio.run(main()), anyio.CancelScope)


def test_without_a_trigger_runner_in_the_process_nothing_is_changed(monkeypatch):
    monkeypatch.delitem(sys.modules, RUNNER_MODULE, raising=False)
    assert not triggerer_wake.install()
    assert not triggerer_wake.installed()

    async def main():
        triggerer_wake.wake_when_done()  # a no-op

    asyncio.run(main())


def test_the_upstream_patch_applies_to_the_pinned_airflow(tmp_path):
    """patches/airflow-triggerer-wake.patch is the same change written for Airflow itself."""
    from airflow.jobs import triggerer_job_runner as runner
    from upstream_patch import assert_applies

    assert_applies("airflow-triggerer-wake.patch", runner, "airflow-core/src/airflow/jobs/triggerer_job_runner.py",
                   tmp_path)
