"""The local Airflow's environment: what the platform, the demo and the harness each ask of the scheduler."""

from __future__ import annotations

from dataops.local.harness import LocalAirflow
from dataops.config import load_settings
from dataops.local.airflow_home import AirflowHome


def test_the_platform_schedules_runs_and_the_harness_only_runs_what_it_triggers(tmp_path):
    settings = load_settings(state_dir=tmp_path / "state")
    platform = AirflowHome.for_settings(settings).env()
    assert platform["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] == "True"
    demo = AirflowHome.for_settings(settings, scheduled_runs=False).env()
    assert demo["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] == "False"
    harness = LocalAirflow(home_dir=tmp_path / "airflow", dags_folder=tmp_path / "dags", settings=settings).home()
    assert harness.env()["AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE"] == "False"
