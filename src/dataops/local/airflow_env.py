"""The environment of a local Airflow process, embedded or services stack.

Three layers, later ones winning: tuning defaults, the caller's environment
(so any ``AIRFLOW__SECTION__KEY`` can tune a setting), and what the stack
must control. Both stacks share the part below; each adds its own executor,
metadata database, broker and secrets.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from dataops import paths
from dataops.airflow import one_version_api

ADMIN_USER = "admin"
# Defaults the caller's AIRFLOW__* variables may override, on both stacks.
TUNING_DEFAULTS = {
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    # Both stacks migrate the metadata database before they start a component; Airflow's own
    # check at each component's start loads every migration script (a third of the API
    # server's start, measured with py-spy).
    "AIRFLOW__DATABASE__CHECK_MIGRATIONS": "False",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
    # How often the DAG processor sees whether a bundle is due for a refresh (Airflow: 5 s).
    "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "1",
    "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
    # Every model task of a run waits in the triggerer (start_from_trigger): one DAG of
    # 2,000 models holds 2,000 triggers at once (Airflow: 1,000), each a small coroutine
    # (dataops.airflow.triggerer_workloads). One triggerer takes them all within a loop or
    # two rather than 50 a loop (a second each): Airflow's small default spreads triggers
    # over several triggerers, which a local stack does not have.
    "AIRFLOW__TRIGGERER__CAPACITY": "5000",
    "AIRFLOW__TRIGGERER__MAX_TRIGGER_TO_SELECT_PER_LOOP": "1000",
    # A task process's calls to the API server wait up to 30 s (Airflow: 5 s): on a small
    # machine busy with a large run, a task's start otherwise timed out and failed it queued.
    "AIRFLOW__WORKERS__EXECUTION_API_TIMEOUT": "30",
}


LOCAL_BUNDLE_CLASS = "airflow.dag_processing.bundles.local.LocalDagBundle"
PUBLISHED_BUNDLE_CLASS = "dataops.airflow.bundle.PublishedDagBundle"
PUBLISHED_BUNDLE_NAME = "analytics"
# How often the DAG processor reads the store's pointer for a newly published version (s):
# one small read of a local file or S3 object.
PUBLISHED_REFRESH_S = 2

# Airflow imports this from <home>/config in each of its processes (as the image's does).
LOCAL_SETTINGS = (
    '"""Airflow local settings of a dataops stack (written by dataops.local.airflow_env)."""\n\n'
    "import dataops.airflow.local_settings  # noqa: F401  (the platform's fixes to Airflow)\n\n"
    "__all__: list[str] = []\n"
)


def airflow_argv(*args: str) -> list[str]:
    """The ``airflow`` command of this environment (beside this Python), with ``args``."""
    return [str(Path(sys.executable).parent / "airflow"), *args]


def write_local_settings(home: Path) -> Path:
    """The stack's ``airflow_local_settings.py``, in Airflow's home (rewritten when it differs)."""
    path = home / "config" / "airflow_local_settings.py"
    if not path.is_file() or path.read_text() != LOCAL_SETTINGS:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(LOCAL_SETTINGS)
    return path


@dataclass(frozen=True)
class DagSource:
    """Where a local stack reads its DAG files: Airflow DAG bundles.

    ``worktree`` (the default; the fast loop): the folders as they are on
    disk, ``analytics/dags`` unless others are named. ``published``: the
    current version in the bundle store ``store`` (``dataops publish``),
    each run pinned to the version it started with; folders named besides
    are served as they are.
    """

    folders: tuple[Path, ...] = ()
    store: str | None = None

    @property
    def mode(self) -> str:
        return "published" if self.store else "worktree"

    def bundles(self) -> list[dict]:
        """Airflow's ``[dag_processor] dag_bundle_config_list``."""
        bundles = []
        if self.store:
            kwargs = {"store": self.store, "refresh_interval": PUBLISHED_REFRESH_S}
            bundles.append({"name": PUBLISHED_BUNDLE_NAME, "classpath": PUBLISHED_BUNDLE_CLASS, "kwargs": kwargs})
        folders = self.folders or (() if self.store else (paths.dags_dir(),))
        for index, folder in enumerate(folders):
            name = "dags-folder" if index == 0 else f"dags-{index}-{folder.name}"
            bundles.append({"name": name, "classpath": LOCAL_BUNDLE_CLASS, "kwargs": {"path": str(folder)}})
        return bundles

    def describe(self) -> str:
        if self.store:
            extra = f" and {', '.join(map(str, self.folders))} as on disk" if self.folders else ""
            return f"published versions from {self.store}{extra}"
        return ", ".join(str(f) for f in (self.folders or (paths.dags_dir(),))) + " as on disk"


def airflow_env(
    base: Mapping[str, str],
    *,
    home: Path,
    dags: DagSource,
    api_port: int,
    passwords_file: Path,
    state_dir: Path,
    dbt_env: Mapping[str, str],
    tuning: Mapping[str, str] | None = None,
    controlled: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``base`` (the caller's environment) between the tuning defaults and what the stack controls.

    ``tuning`` and ``controlled`` are the stack's own additions to each layer;
    ``dbt_env`` is what dbt's profiles.yml reads in the tasks.
    """
    url = f"http://127.0.0.1:{api_port}"
    shared = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(dags.bundles()),
        # Each stack keeps its bundles' copies in its own home (Airflow's default is one folder per machine).
        "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH": str(home / "dag-bundles"),
        # The platform's plugin (dbt timeline, history and docs), from the folder the image installs it from.
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(paths.plugins_folder()),
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(api_port),
        "AIRFLOW__API__BASE_URL": url,
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        # Tasks find the repository (and so the dbt project) through this.
        "DATAOPS_HOME": str(paths.repo_root()),
        "DATAOPS_STATE_DIR": str(state_dir),
        # Every process of the stack runs this installation's Task SDK: the API server's
        # Execution API is built for its one version (dataops.airflow.one_version_api).
        one_version_api.LOCAL_STACK_VARIABLE: "true",
        **dbt_env,
        # Airflow starts processes of its own (task runners among them) by running `airflow` from PATH.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{base.get('PATH', '')}",
    }
    return {**TUNING_DEFAULTS, **(tuning or {}), **base, **shared, **(controlled or {})}
