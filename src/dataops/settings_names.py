"""Which ``DATAOPS_*`` names the platform reads, and a check that every one
set in ``.env`` or the environment is among them.

A misspelt name (``DATAOPS_TARGT=postgres``) would otherwise be ignored in
silence and the platform would run on its defaults. The known names come from
the code: every settings class of the package (prefix and fields), the
``env_var('DATAOPS_...')`` calls of the dbt project, the few names read
elsewhere (listed below), and what the caller adds: the ``dataops`` command
(dataops.cli.environment) adds the local stacks' own variables, and runs the
check before every command.
"""

from __future__ import annotations

import difflib
import io
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from dataops.errors import ConfigError

PREFIX = "DATAOPS_"
# Names read outside the settings classes.
OTHER_NAMES = frozenset({
    # dataops.paths: the checkout; the platform sets it for its own processes.
    "DATAOPS_HOME",
    # The ecs dbt executor hands it to the dbt image's entrypoint.
    "DATAOPS_DBT_ARTIFACTS_URI",
    # ... where it keeps dbt's partial-parse file between runs,
    "DATAOPS_DBT_PARSE_CACHE_URI",
    # ... and the bundle version it fetches (the store is DATAOPS_BUNDLE_STORE, a setting).
    "DATAOPS_BUNDLE_VERSION",
    # Set by the local stacks for their Airflow processes (dataops.airflow.one_version_api).
    "DATAOPS_EXECUTION_API_ONE_VERSION",
    # The test suite's screenshots folder.
    "DATAOPS_TEST_ARTIFACTS",
    # The Airflow plugin's cache of published versions' dbt docs sites (dataops.airflow.ui.docs_site),
    # and `dataops runs --password` for an Airflow named with --url.
    "DATAOPS_DOCS_CACHE",
    "DATAOPS_AIRFLOW_PASSWORD",
    # On AWS (set by the CDK app): the metadata database's rotating password (dataops.aws.metadata_db),
    # the broker the Celery URLs and the queue-depth metrics are built from, and the sign-in provider
    # (infra/images/airflow: connection-url, queue-metrics, webserver_config.py).
    "DATAOPS_METADATA_DB_SECRET_ARN",
    "DATAOPS_BROKER_HOST",
    "DATAOPS_BROKER_PORT",
    "DATAOPS_BROKER_AUTH_TOKEN",
    "DATAOPS_METRICS_NAMESPACE",
    "DATAOPS_METRICS_DEPLOYMENT",
    "DATAOPS_OIDC_ISSUER",
    "DATAOPS_OIDC_CLIENT_ID",
})
# The dbt project's files that may read settings (profiles and project config).
_DBT_FILES = ("dbt_project.yml", "profiles.yml")
_ENV_VAR_CALL = re.compile(r"""env_var\(\s*['"](DATAOPS_[A-Za-z0-9_]+)['"]""")


@dataclass(frozen=True)
class Assignment:
    """One ``DATAOPS_*`` name found set, and where."""

    name: str
    where: str


def settings_classes() -> list[type]:
    """The settings classes loaded (``BaseSettings`` with a ``DATAOPS_`` prefix)."""
    from pydantic_settings import BaseSettings

    import dataops.config

    found: dict[type, None] = {}
    candidates = [v for v in vars(dataops.config).values() if isinstance(v, type)]
    todo = list(BaseSettings.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        # Any module's: a warehouse registered from outside the package brings its own.
        candidates.append(cls)
    for cls in candidates:
        if issubclass(cls, BaseSettings) and str(cls.model_config.get("env_prefix", "")).upper().startswith(PREFIX):
            found[cls] = None
    return list(found)


def settings_names(cls: type) -> set[str]:
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    return {f"{prefix}{name}".upper() for name in cls.model_fields}


def dbt_project_names(project_dir: Path | None) -> set[str]:
    """The ``DATAOPS_*`` names the dbt project's profiles and project file read."""
    names: set[str] = set()
    for file_name in _DBT_FILES if project_dir else ():
        try:
            text = (Path(project_dir) / file_name).read_text(errors="replace")
        except OSError:
            continue
        names.update(name.upper() for name in _ENV_VAR_CALL.findall(text))
    return names


def known_names(dbt_project_dir: Path | None = None, extra: Iterable[str] = ()) -> frozenset[str]:
    """The names of the settings classes loaded, the dbt project's, ``OTHER_NAMES`` and ``extra``
    (what the layers above read on their own, e.g. the services stack's options)."""
    names = set(OTHER_NAMES) | set(extra)
    for cls in settings_classes():
        names |= settings_names(cls)
    return frozenset(names | dbt_project_names(dbt_project_dir))


def assignments(env_file: Path, environ: Mapping[str, str]) -> list[Assignment]:
    """The ``DATAOPS_*`` names set in ``env_file`` and ``environ`` (case as pydantic reads them:
    any), after checking that every line of ``env_file`` reads as NAME=value."""
    found = [Assignment(name, "the environment") for name in environ if name.upper().startswith(PREFIX)]
    for line, name in _dotenv_names(env_file):
        if name.upper().startswith(PREFIX):
            found.append(Assignment(name, f"{env_file}, line {line}"))
    return found


def _dotenv_names(env_file: Path) -> Iterable[tuple[int, str]]:
    from dotenv.parser import parse_stream

    try:
        text = env_file.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, IsADirectoryError):
        return []
    names = []
    for binding in parse_stream(io.StringIO(text)):
        original = binding.original.string
        leading = original[: len(original) - len(original.lstrip())]
        line = binding.original.line + leading.count("\n")
        shown = original.strip()
        if binding.error:
            raise ConfigError(
                f"{env_file}, line {line} cannot be read: {shown!r}; write it as NAME=value, "
                "or start it with # to make it a comment"
            )
        if binding.key is not None and binding.value is None:
            raise ConfigError(
                f"{env_file}, line {line} has no '=': {shown!r}; write it as NAME=value "
                "(e.g. DATAOPS_TARGET=postgres)"
            )
        if binding.key is not None:
            names.append((line, binding.key))
    return names


def describe_unknown(unknown: list[Assignment], known: Iterable[str]) -> str:
    """One line per unknown name, each with the closest real name when there is one."""
    # Compared without the common prefix, which would make every name look close.
    by_suffix = {name.removeprefix(PREFIX): name for name in sorted(known)}
    lines = []
    for assignment in unknown:
        close = difflib.get_close_matches(assignment.name.upper().removeprefix(PREFIX), by_suffix, n=1, cutoff=0.6)
        advice = (
            f"did you mean {by_suffix[close[0]]}?" if close
            else "remove it, or see README.md (Configuration) for the settings"
        )
        lines.append(f"{assignment.name} (in {assignment.where}) is not a dataops setting; {advice}")
    return "\n".join(lines)


def check_env_file(env_file: Path | None = None) -> None:
    """Raises ConfigError naming the first line of ``.env`` that is not NAME=value."""
    _dotenv_names(Path(env_file or ".env").absolute())


def check_names(env_file: Path | None = None, environ: Mapping[str, str] | None = None,
                dbt_project_dir: Path | None = None, extra_known: Iterable[str] = ()) -> None:
    """Raises ConfigError naming every unknown ``DATAOPS_*`` name in ``.env`` or the environment."""
    env_file = Path(env_file or ".env").absolute()
    environ = os.environ if environ is None else environ
    found = assignments(env_file, environ)
    if not found:
        return
    known = known_names(dbt_project_dir, extra_known)
    unknown = [a for a in found if a.name.upper() not in known]
    if unknown:
        raise ConfigError(describe_unknown(unknown, known))


def where_set(name: str, env_file: Path | None = None, environ: Mapping[str, str] | None = None) -> str | None:
    """Where ``name`` is set (the environment wins over .env, as in pydantic-settings), if anywhere."""
    env_file = Path(env_file or ".env").absolute()
    environ = os.environ if environ is None else environ
    if any(key.upper() == name.upper() for key in environ):
        return "the environment"
    try:
        lines = _dotenv_names(env_file)
    except ConfigError:
        return None
    for line, key in lines:
        if key.upper() == name.upper():
            return f"{env_file}, line {line}"
    return None


def accepted_values(prefix: str, field: str, error: Mapping) -> str:
    """What is wrong with a setting's value, as what it accepts (e.g. "it must be
    greater than 0 and at most 1000"), from pydantic's error and the field's bounds."""
    problem = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
    problem = problem.replace("Input should be", "it must be").rstrip(".!? ")
    bounds = _bounds(prefix, field)
    if bounds and error.get("type") in _RANGE_ERRORS:
        return f"it must be {bounds}"
    return problem


_RANGE_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def _bounds(prefix: str, field: str) -> str | None:
    """The field's numeric bounds in words, from its constraints (``Field(gt=0, le=1000)``)."""
    import annotated_types as at

    words = {at.Gt: ("gt", "greater than"), at.Ge: ("ge", "at least"), at.Lt: ("lt", "less than"), at.Le: ("le", "at most")}
    for cls in settings_classes():
        if str(cls.model_config.get("env_prefix", "")).upper() == prefix.upper() and field in cls.model_fields:
            found = [
                f"{text} {getattr(constraint, attribute)}"
                for constraint in cls.model_fields[field].metadata
                for kind, (attribute, text) in words.items()
                if isinstance(constraint, kind)
            ]
            return " and ".join(found) or None
    return None
