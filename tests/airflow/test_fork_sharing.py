"""The triggerer and the LocalExecutor's scheduler freeze their objects before they fork
(dataops.airflow.fork_sharing), so their collectors leave the pages they share with their
children alone. What it saves is measured by the bench (bench/run.py: ``peak_pss_mb``)."""

from __future__ import annotations

import gc
import subprocess
import sys
import textwrap

import pytest

from dataops.airflow import fork_sharing


def test_the_fix_applies_to_the_pinned_airflow():
    """Fails naming what changed when the pinned Airflow's code differs from what the fix relies on."""
    assert fork_sharing.changed_internals() == []


@pytest.fixture
def local_executor():
    """The LocalExecutor class, its spawning method and this process's frozen objects put back afterwards."""
    from airflow.executors.local_executor import LocalExecutor

    spawn = LocalExecutor._spawn_workers_with_gc_freeze
    try:
        yield LocalExecutor
    finally:
        LocalExecutor._spawn_workers_with_gc_freeze = spawn
        gc.unfreeze()


def _frozen_after_start(executor_class) -> int:
    executor = executor_class(parallelism=1)
    executor.start()
    try:
        assert len(executor.workers) == 1
        return gc.get_freeze_count()
    finally:
        executor.end()


def test_the_scheduler_keeps_its_objects_frozen_once_the_local_executor_forked_its_workers(local_executor):
    gc.unfreeze()
    assert _frozen_after_start(local_executor) == 0  # Airflow's own: frozen for the fork, unfrozen after
    assert fork_sharing.patch_local_executor()
    assert _frozen_after_start(local_executor) > 0


def test_the_triggerer_freezes_before_forking_its_runner_and_only_then():
    """In a process of its own: a fork hook cannot be taken back."""
    probe = textwrap.dedent("""
        import gc, os
        import dataops.airflow.local_settings  # what every Airflow process of the platform loads
        import airflow.jobs.triggerer_job_runner  # what makes a process the triggerer

        def fork_and_report():
            pid = os.fork()
            if pid == 0:
                os._exit(0 if gc.get_freeze_count() > 0 else 1)
            return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

        before = gc.get_freeze_count()
        child_frozen = fork_and_report() == 0
        after_first = gc.get_freeze_count()
        gc.unfreeze()
        fork_and_report()
        print(before, child_frozen, after_first > 0, gc.get_freeze_count())
    """)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    before, child_frozen, frozen_after_first, after_second = done.stdout.split()[-4:]
    assert (before, child_frozen, frozen_after_first, after_second) == ("0", "True", "True", "0"), done.stdout


def test_the_upstream_patch_applies_to_the_pinned_airflow(tmp_path):
    """patches/airflow-gc-freeze-before-fork.patch is the same change written for Airflow."""
    import airflow.executors.local_executor as executor
    import airflow.jobs.triggerer_job_runner as triggerer
    from upstream_patch import assert_applies

    assert_applies("airflow-gc-freeze-before-fork.patch", executor, "airflow-core/src/airflow/executors/local_executor.py",
                   tmp_path, {"airflow-core/src/airflow/jobs/triggerer_job_runner.py": triggerer})
