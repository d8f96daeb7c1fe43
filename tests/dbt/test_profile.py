"""Which dbt profile a run uses: the project's own, the platform's, or the one named."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from dataops import paths
from dataops.dbt.profile import PLATFORM_PROFILE, PLATFORM_PROFILES_DIR, DbtProfile
from dataops.dbt.project import DbtProject
from dataops.dbt.runner import DbtInvocation, DbtRunner
from dataops.errors import ConfigError


def _settings(profiles_dir=None, profile=None, target=None):
    return SimpleNamespace(dbt_profiles_dir=profiles_dir, dbt_profile=profile, dbt_target=target)


def _project(root: Path, *, own_profiles: bool) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text("name: shop\nprofile: shop\n")
    if own_profiles:
        (root / "profiles.yml").write_text("shop:\n  target: dev\n  outputs: {}\n")
    return root


def test_a_project_with_its_own_profiles_runs_with_its_profile_and_default_target(tmp_path):
    project = _project(tmp_path / "p", own_profiles=True)
    profile = DbtProfile().resolve(_settings()).for_project(project)
    assert profile == DbtProfile(project.resolve())
    assert profile.args() == ["--profiles-dir", str(project.resolve())]


def test_a_project_without_profiles_gets_the_platforms(tmp_path):
    project = _project(tmp_path / "p", own_profiles=False)
    profile = DbtProfile().resolve(_settings()).for_project(project)
    assert profile.args() == ["--profiles-dir", str(PLATFORM_PROFILES_DIR), "--profile", PLATFORM_PROFILE]
    # A named profile or target applies to the platform's folder too.
    named = DbtProfile(target="postgres").resolve(_settings(profile="team")).for_project(project)
    assert named == DbtProfile(PLATFORM_PROFILES_DIR, "team", "postgres")


def test_arguments_win_over_settings_which_win_over_the_project(tmp_path):
    project = _project(tmp_path / "p", own_profiles=True)
    elsewhere = _project(tmp_path / "elsewhere", own_profiles=True)
    settings = _settings(profiles_dir=str(elsewhere), profile="from_settings", target="ci")
    assert DbtProfile().resolve(settings).for_project(project) == DbtProfile(elsewhere.resolve(), "from_settings", "ci")
    asked = DbtProfile(profile="asked").resolve(settings).for_project(project)
    assert asked == DbtProfile(elsewhere.resolve(), "asked", "ci")


def test_empty_settings_mean_unset(tmp_path):
    project = _project(tmp_path / "p", own_profiles=True)
    assert DbtProfile().resolve(_settings("", "", "")).for_project(project) == DbtProfile(project.resolve())


def test_a_profiles_folder_without_profiles_yml_is_refused_with_what_to_do(tmp_path):
    project = _project(tmp_path / "p", own_profiles=True)
    with pytest.raises(ConfigError, match=r"no profiles.yml.*--profiles-dir, DbtDag\(profiles_dir=...\) or DATAOPS_DBT_"):
        DbtProfile(tmp_path / "nowhere").for_project(project)


def test_the_runner_passes_the_profile_flags_and_no_target_of_its_own(tmp_path):
    project = _project(tmp_path / "p", own_profiles=True).resolve()

    def profile_flags(target: str | None) -> list[str]:
        settings = SimpleNamespace(
            **vars(_settings(target=target)), dbt_project_dir=project, dbt_bin=Path("/bin/dbt"), dbt_env=dict
        )
        argv = DbtRunner(DbtProject.from_settings(settings)).argv(DbtInvocation(), tmp_path / "t")
        return argv[argv.index("--project-dir") + 2:argv.index("--target-path")]

    assert profile_flags("dev") == ["--profiles-dir", str(project), "--target", "dev"]
    assert profile_flags(None) == ["--profiles-dir", str(project)]


def test_the_platform_profile_has_the_outputs_of_the_tickit_profile():
    """The packaged profile and TICKIT's own are the same DATAOPS_* driven outputs,
    one per registered warehouse."""
    from dataops.warehouses import registry

    platform = yaml.safe_load((PLATFORM_PROFILES_DIR / "profiles.yml").read_text())[PLATFORM_PROFILE]
    tickit = yaml.safe_load((paths.dbt_project_dir() / "profiles.yml").read_text())["dataops"]
    assert platform["target"] == tickit["target"]
    assert set(platform["outputs"]) == set(tickit["outputs"]) == set(registry.names())
    # ... and the warehouse outputs read the same variables the same way (the DuckDB
    # path alone has a default only in the TICKIT project's).
    for name in set(registry.names()) - {"duckdb"}:
        assert platform["outputs"][name] == tickit["outputs"][name], name
    assert set(platform["outputs"]["duckdb"]) == set(tickit["outputs"]["duckdb"])
