"""Unknown ``DATAOPS_*`` names in ``.env`` or the environment stop with the
closest real name; the known names are those the code reads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dataops import paths
from dataops.config import load_settings
from dataops.errors import ConfigError
from dataops.cli.environment import check_environment, known_names
from dataops.settings_names import check_names


@pytest.fixture
def workdir(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATAOPS_STATE_DIR", str(tmp_path / "state"))
    return tmp_path


def test_a_misspelt_name_in_dotenv_is_named_with_its_line_and_the_real_name(workdir, monkeypatch):
    monkeypatch.delenv("DATAOPS_TARGET", raising=False)
    (workdir / ".env").write_text("# the warehouse\nDATAOPS_PG_HOST=db\nDATAOPS_TARGT=postgres\n")
    with pytest.raises(ConfigError) as err:
        check_environment()
    message = str(err.value)
    assert message == (
        f"DATAOPS_TARGT (in {workdir / '.env'}, line 3) is not a dataops setting; did you mean DATAOPS_TARGET?"
    )


def test_a_misspelt_name_in_the_environment_is_named(workdir, monkeypatch):
    monkeypatch.setenv("DATAOPS_MODLES_SCHEMA", "marts")
    with pytest.raises(ConfigError, match=r"DATAOPS_MODLES_SCHEMA \(in the environment\) .*did you mean DATAOPS_MODELS_SCHEMA\?"):
        check_environment()


def test_a_name_like_no_setting_is_named_without_a_wild_guess(workdir, monkeypatch):
    monkeypatch.setenv("DATAOPS_FOO", "1")
    with pytest.raises(ConfigError) as err:
        check_environment()
    assert "DATAOPS_FOO" in str(err.value) and "did you mean" not in str(err.value)
    assert "README.md" in str(err.value)


def test_every_command_refuses_a_misspelt_name_but_help_still_answers(workdir, monkeypatch):
    from click.testing import CliRunner

    from dataops.cli.main import main

    monkeypatch.setenv("DATAOPS_TARGT", "postgres")
    result = CliRunner().invoke(main, ["data", "generate", "--scale", "0.01"])
    assert result.exit_code == 1
    assert "DATAOPS_TARGT (in the environment) is not a dataops setting; did you mean DATAOPS_TARGET?" in result.output
    assert not (workdir / "state").exists(), "the command ran before the check"
    for args in (["--help"], ["data", "generate", "--help"], ["up", "-h"]):
        assert CliRunner().invoke(main, args).exit_code == 0, args


@pytest.mark.parametrize(
    ("line", "expected"),
    [("DATAOPS_TARGET", "line 2 has no '='"), ("DATAOPS_TARGET postgres", "line 2 cannot be read")],
)
def test_a_dotenv_line_that_is_not_name_equals_value_is_named(workdir, line, expected):
    (workdir / ".env").write_text(f"DATAOPS_SCALE=1\n{line}\n")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).startswith(f"{workdir / '.env'}, {expected}"), str(err.value)
    assert "NAME=value" in str(err.value) and "\n" not in str(err.value)


def test_the_names_the_platform_sets_for_its_processes_are_known(workdir):
    from dataops.local.services.config import OPTION_VARIABLES
    from dataops.local.services.environment import STACK_ID_VARIABLE

    known = known_names()
    assert {"DATAOPS_HOME", STACK_ID_VARIABLE, *OPTION_VARIABLES.values()} <= known
    assert {"DATAOPS_TARGET", "DATAOPS_PG_HOST", "DATAOPS_REDSHIFT_COPY_ROLE_ARN", "DATAOPS_ECS_CLUSTER",
            "DATAOPS_S3_ENDPOINT_URL", "DATAOPS_DBT_BIN"} <= known


def test_the_dbt_projects_own_names_are_known(workdir):
    project = workdir / "project"
    project.mkdir()
    (project / "dbt_project.yml").write_text("models:\n  +materialized: \"{{ env_var('DATAOPS_MART_STYLE', 'table') }}\"\n")
    check_names(environ={"DATAOPS_MART_STYLE": "view"}, dbt_project_dir=project)
    with pytest.raises(ConfigError, match="DATAOPS_MART_STYLE"):
        check_names(environ={"DATAOPS_MART_STYLE": "view"}, dbt_project_dir=workdir)


_NAME = re.compile(r"DATAOPS_[A-Z0-9_]*[A-Z0-9]\b")
# Files that spell unknown names on purpose (examples of misspellings; a test's throwaway warehouse).
_ON_PURPOSE = {Path(__file__).name, "settings_names.py", "environment.py", "test_warehouses.py"}


def test_every_name_the_code_reads_is_known():
    """Whatever DATAOPS_* name appears in the code, the DAGs, the dbt project,
    the infra or the tests is one the check accepts (prefixes like DATAOPS_PG_ aside)."""
    root = paths.repo_root()
    known = known_names(paths.dbt_project_dir())
    found: dict[str, str] = {}
    for folder in ("src", "infra", "analytics", "bench", "tests"):
        for path in (root / folder).rglob("*"):
            if path.suffix not in {".py", ".yml", ".sql", ".json"} or path.name in _ON_PURPOSE:
                continue
            if any(part in {"node_modules", "cdk.out", ".venv", "target"} for part in path.parts):
                continue
            for name in _NAME.findall(path.read_text(errors="replace")):
                found.setdefault(name, str(path.relative_to(root)))
    unknown = {name: where for name, where in found.items() if name not in known}
    assert not unknown, f"names read by the code but not known to the check: {unknown}"
