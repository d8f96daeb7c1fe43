"""A dbt project on disk and the environment dbt needs to run it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dataops.config import Settings
from dataops.dbt.profile import DbtProfile
from dataops.errors import ConfigError


@dataclass(frozen=True)
class DbtProject:
    """Where a dbt project and dbt itself are, the profile it runs with, and dbt's env."""

    project_dir: Path
    dbt_bin: Path
    profile: DbtProfile = field(default_factory=DbtProfile)
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls, settings: Settings, project_dir: Path | None = None, profile: DbtProfile | None = None
    ) -> DbtProject:
        """The project (default: the settings'), with ``profile`` completed by the settings and the project."""
        project = Path(project_dir or settings.dbt_project_dir).resolve()
        if not (project / "dbt_project.yml").is_file():
            raise ConfigError(
                f"{project} is not a dbt project (no dbt_project.yml). "
                "Set DATAOPS_DBT_PROJECT_DIR or pass --project-dir."
            )
        return cls(
            project_dir=project,
            dbt_bin=settings.dbt_bin,
            profile=(profile or DbtProfile()).resolve(settings).for_project(project),
            env=settings.dbt_env(),
        )

    @property
    def name(self) -> str:
        for line in (self.project_dir / "dbt_project.yml").read_text().splitlines():
            if line.startswith("name:"):
                return line.split(":", 1)[1].strip().strip("'\"")
        return self.project_dir.name

    def process_env(self) -> dict[str, str]:
        """The environment of a dbt process: ours, then the project's settings."""
        return {
            **os.environ,
            # No telemetry and no version check: these machines have no network.
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_VERSION_CHECK": "false",
            **self.env,
        }

    def check_installed(self) -> None:
        if not os.access(self.dbt_bin, os.X_OK):
            raise ConfigError(
                f"dbt is not installed at {self.dbt_bin}. Run `make setup` to create the "
                "dbt environment, or set DATAOPS_DBT_BIN to a dbt executable."
            )
