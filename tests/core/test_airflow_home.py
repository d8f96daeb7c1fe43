"""The local Airflow's environment: what the platform, the demo and the harness each ask of the scheduler.

A new user's local stack serves its DAGs unpaused (a triggered run starts at
once) and starts no run that nobody triggered, unless asked to.
"""

from __future__ import annotations

from dataops.local.harness import LocalAirflow
from dataops.config import load_settings
from dataops.local.airflow_home import AirflowHome
from dataops.local.services.config import ServicesConfig
from dataops.local.services.credentials import StackSecrets
from dataops.local.services.environment import component_env

PAUSED_AT_CREATION = "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"
USE_JOB_SCHEDULE = "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"


def test_the_embedded_stack_serves_dags_ready_to_trigger_without_scheduled_runs(tmp_path):
    settings = load_settings(state_dir=tmp_path / "state")
    platform = AirflowHome.for_settings(settings).env()
    assert platform[PAUSED_AT_CREATION] == "False"
    assert platform[USE_JOB_SCHEDULE] == "False"
    scheduled = AirflowHome.for_settings(settings, scheduled_runs=True).env()
    assert scheduled[PAUSED_AT_CREATION] == "False" and scheduled[USE_JOB_SCHEDULE] == "True"
    harness = LocalAirflow(home_dir=tmp_path / "airflow", dags_folder=tmp_path / "dags", settings=settings).home()
    assert harness.env()[USE_JOB_SCHEDULE] == "False" and harness.env()[PAUSED_AT_CREATION] == "False"


def _secrets() -> StackSecrets:
    return StackSecrets(admin_password="a", jwt_secret="j", api_secret_key="k", fernet_key="f")


def test_the_services_stack_serves_dags_ready_to_trigger_without_scheduled_runs(tmp_path):
    # Even where the caller's environment asks for Airflow's defaults, the stack decides.
    base = {PAUSED_AT_CREATION: "True", USE_JOB_SCHEDULE: "True", "PATH": "/usr/bin"}
    env = component_env(ServicesConfig(folder=tmp_path / "services"), _secrets(), base=base)
    assert env[PAUSED_AT_CREATION] == "False"
    assert env[USE_JOB_SCHEDULE] == "False"
    scheduled = component_env(ServicesConfig(folder=tmp_path / "services", scheduled_runs=True), _secrets(), base=base)
    assert scheduled[USE_JOB_SCHEDULE] == "True"


def test_the_services_stack_remembers_whether_schedules_run(tmp_path):
    config = ServicesConfig(folder=tmp_path / "services", scheduled_runs=True)
    config.save()
    assert ServicesConfig.load(config.folder).scheduled_runs is True


BUNDLES = "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"


def test_both_stacks_read_the_working_tree_unless_told_to_serve_published_versions(tmp_path):
    import json

    from dataops import paths
    from dataops.local.airflow_env import DagSource

    settings = load_settings(state_dir=tmp_path / "state")
    worktree = json.loads(AirflowHome.for_settings(settings).env()[BUNDLES])
    assert worktree == [{"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
                         "kwargs": {"path": str(paths.dags_dir())}}]

    published = DagSource(store=str(tmp_path / "bundles"))
    env = AirflowHome.for_settings(settings, dags=published).env()
    (bundle,) = json.loads(env[BUNDLES])
    assert bundle["classpath"] == "dataops.airflow.bundle.PublishedDagBundle"
    assert bundle["kwargs"] == {"store": str(tmp_path / "bundles"), "refresh_interval": 2}
    # Each stack keeps its copies of bundles in its own home, never in a folder other stacks share.
    assert env["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH"] == str(settings.state_dir / "airflow" / "dag-bundles")

    config = ServicesConfig(folder=tmp_path / "services", bundle_store=str(tmp_path / "bundles"),
                            dags_folders=(tmp_path / "extra",))
    services = json.loads(component_env(config, _secrets(), base={"PATH": "/usr/bin"})[BUNDLES])
    assert [b["name"] for b in services] == ["analytics", "dags-folder"]
    assert services[1]["kwargs"] == {"path": str(tmp_path / "extra")}
    config.save()
    assert ServicesConfig.load(config.folder).dag_source() == config.dag_source()


def test_publish_finds_the_embedded_stack_only_while_it_runs(tmp_path):
    import os

    from dataops.local.running import RUNNING_FILE, forget_running, record_running, running_airflow

    settings = load_settings(state_dir=tmp_path / "state")
    home = AirflowHome.for_settings(settings)
    assert running_airflow(settings) is None
    home.path.mkdir(parents=True)
    record_running(home, "http://127.0.0.1:8123")
    url, user, password = running_airflow(settings)
    assert (url, user) == ("http://127.0.0.1:8123", "admin") and password == home.admin_password()
    # A stack whose `dataops up` died without cleaning up is not asked.
    (home.path / RUNNING_FILE).write_text('{"url": "http://127.0.0.1:8123", "pid": %d}' % (2**22 + os.getpid()))
    assert running_airflow(settings) is None
    forget_running(home)
    assert not (home.path / RUNNING_FILE).exists()
