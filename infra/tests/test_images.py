"""The Dockerfiles install exactly the pinned sets the project's tests install, and the
platform only: never the analytics folder, which reaches Airflow and dbt in published bundles.
(What each image really holds, and that it runs a bundle, is tests/delivery/test_images.py.)"""

from __future__ import annotations

import re
import sys
from pathlib import Path

INFRA = Path(__file__).resolve().parent.parent
REPO = INFRA.parent


# One Dockerfile reader for both test trees (standard library only).
sys.path.insert(0, str(REPO / "tests" / "delivery"))

from image_files import instructions  # noqa: E402


def compiled_python_version(lock: Path) -> str:
    match = re.search(r"--python-version (\d+\.\d+)", lock.read_text())
    assert match, f"{lock} does not say which Python it was compiled for"
    return match.group(1)


def pin(lock: Path, package: str) -> str:
    match = re.search(rf"^{re.escape(package)}==(\S+)", lock.read_text(), re.MULTILINE)
    assert match, f"{package} is not pinned in {lock}"
    return match.group(1)


def installed_requirement_files(dockerfile: Path) -> set[str]:
    """The repository files that reach a `pip install -r` (through COPY)."""
    steps = instructions(dockerfile)
    copied = {}
    for keyword, args in steps:
        if keyword == "COPY":
            parts = [part for part in args.split() if not part.startswith("--")]
            for source in parts[:-1]:
                copied[parts[-1]] = source
    installed = set()
    for keyword, args in steps:
        if keyword == "RUN" and "pip install" in args:
            for path in re.findall(r"-r\s+(\S+)", args):
                assert path in copied, f"{dockerfile}: installs {path}, which no COPY puts there"
                installed.add(copied[path])
    return installed


def base_image(dockerfile: Path) -> str:
    return next(args for keyword, args in instructions(dockerfile) if keyword == "FROM")


def test_airflow_image_installs_the_platform_lock():
    dockerfile = INFRA / "images/airflow/Dockerfile"
    assert installed_requirement_files(dockerfile) == {"requirements/platform.txt"}
    # The package itself goes in without dependencies, so nothing outside the lock sneaks in.
    runs = [args for keyword, args in instructions(dockerfile) if keyword == "RUN"]
    assert any("--no-deps /opt/dataops/package" in run for run in runs)


def test_airflow_base_image_matches_the_pins():
    lock = REPO / "requirements/platform.txt"
    expected = f"apache/airflow:{pin(lock, 'apache-airflow')}-python{compiled_python_version(lock)}"
    assert base_image(INFRA / "images/airflow/Dockerfile") == expected


def test_dbt_image_installs_the_dbt_lock_and_the_package_without_dependencies():
    dockerfile = INFRA / "images/dbt/Dockerfile"
    assert installed_requirement_files(dockerfile) == {"requirements/dbt.txt"}
    assert base_image(dockerfile) == f"python:{compiled_python_version(REPO / 'requirements/dbt.txt')}-slim"
    # The entrypoint imports dataops.delivery.fetch; nothing outside dbt.txt comes with it.
    runs = [args for keyword, args in instructions(dockerfile) if keyword == "RUN"]
    assert any("--no-deps /opt/dataops/package" in run for run in runs)
    copies = [args for keyword, args in instructions(dockerfile) if keyword == "COPY"]
    assert "pyproject.toml README.md /opt/dataops/package/" in copies
    assert "src /opt/dataops/package/src" in copies


def test_images_carry_no_analytics_code():
    """An analytics change rebuilds no image: no COPY, setting or build step names it."""
    for image in ("airflow", "dbt"):
        dockerfile = INFRA / f"images/{image}/Dockerfile"
        for keyword, args in instructions(dockerfile):
            if keyword == "COPY":
                sources = [part for part in args.split() if not part.startswith("--")][:-1]
                assert not any(source.startswith("analytics") for source in sources), f"{image}: COPY {args}"
            assert "DATAOPS_DBT_PROJECT_DIR" not in args, f"{image}: {keyword} {args}"
            assert "DBT_PROFILES_DIR" not in args, f"{image}: {keyword} {args}"
            # dbt packages travel in the bundle: no `dbt deps` (no project at build, no network at start).
            assert not (keyword == "RUN" and "dbt deps" in args), f"{image}: {keyword} {args}"
        ignore = (INFRA / f"images/{image}/Dockerfile.dockerignore").read_text().splitlines()
        assert not any(line.lstrip("!").startswith("analytics") for line in ignore), image


def test_the_dbt_image_runs_the_bundle_fetching_entrypoint():
    steps = instructions(INFRA / "images/dbt/Dockerfile")
    assert ("ENTRYPOINT", '["/opt/dataops/bin/dbt-entrypoint"]') in steps
    assert any(
        k == "COPY" and a.endswith("infra/images/dbt/entrypoint.py /opt/dataops/bin/dbt-entrypoint") for k, a in steps
    )


def test_images_copy_what_exists():
    for image in ("airflow", "dbt"):
        for keyword, args in instructions(INFRA / f"images/{image}/Dockerfile"):
            if keyword == "COPY":
                sources = [part for part in args.split() if not part.startswith("--")][:-1]
                for source in sources:
                    assert (REPO / source).exists(), f"images/{image}/Dockerfile copies missing {source}"


def test_build_context_ignores_send_what_is_copied():
    """BuildKit's <Dockerfile>.dockerignore: everything excluded except what COPY uses."""
    for image in ("airflow", "dbt"):
        ignore = (INFRA / f"images/{image}/Dockerfile.dockerignore").read_text().splitlines()
        assert ignore[next(i for i, line in enumerate(ignore) if not line.startswith("#"))] == "*"
        kept = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
        for keyword, args in instructions(INFRA / f"images/{image}/Dockerfile"):
            if keyword == "COPY":
                for source in [part for part in args.split() if not part.startswith("--")][:-1]:
                    assert source.rstrip("/") in kept, f"{image}: {source} is copied but excluded from the context"


def test_the_airflow_image_trusts_the_rds_ca_bundle_from_the_repository():
    """sslmode=verify-full needs Amazon RDS's CAs in the image: copied from the repository, never downloaded."""
    import subprocess

    copies = [args for keyword, args in instructions(INFRA / "images/airflow/Dockerfile") if keyword == "COPY"]
    bundle = "infra/images/airflow/certs/rds-global-bundle.pem"
    assert any(args.endswith(f"{bundle} /opt/dataops/certs/rds-global-bundle.pem") for args in copies)
    assert not [args for keyword, args in instructions(INFRA / "images/airflow/Dockerfile") if keyword == "ADD"]
    pem = (REPO / bundle).read_text()
    assert pem.count("BEGIN CERTIFICATE") > 50
    # Every certificate is an Amazon RDS root CA (subject and issuer alike).
    done = subprocess.run(
        ["openssl", "crl2pkcs7", "-nocrl", "-certfile", str(REPO / bundle)], capture_output=True, check=True
    )
    listing = subprocess.run(
        ["openssl", "pkcs7", "-print_certs", "-noout"], input=done.stdout, capture_output=True, check=True
    ).stdout.decode()
    names = [line for line in listing.splitlines() if line.startswith(("subject=", "issuer="))]
    assert len(names) == 2 * pem.count("BEGIN CERTIFICATE")
    assert all("OU = Amazon RDS" in line and 'O = "Amazon Web Services, Inc."' in line for line in names)
    assert any("Amazon RDS us-east-1 Root CA RSA2048 G1" in line for line in names)


def test_the_airflow_image_carries_its_aws_runtime_files():
    """Sign-in settings, the engine factories with the rotating password, the Celery URL and queue scripts."""
    copies = {
        args.split()[-1]: args
        for keyword, args in instructions(INFRA / "images/airflow/Dockerfile")
        if keyword == "COPY"
    }
    assert "/opt/airflow/webserver_config.py" in copies
    assert "/opt/airflow/config/airflow_local_settings.py" in copies
    assert "/opt/dataops/bin/connection-url" in copies and "/opt/dataops/bin/queue-metrics" in copies
    shim = (INFRA / "images/airflow/airflow_local_settings.py").read_text()
    assert "from dataops.aws.metadata_db import create_async_metadata_engine, create_metadata_engine" in shim


def test_sign_in_groups_are_the_same_in_the_stack_and_the_image():
    import ast

    from dataops_infra.constructs.airflow_sign_in import OAUTH_PROVIDER, ROLE_GROUPS

    source = (INFRA / "images/airflow/webserver_config.py").read_text()
    tree = ast.parse(source)
    assigned = {
        node.targets[0].id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }
    assert ast.literal_eval(assigned["ROLE_GROUPS"]) == ROLE_GROUPS
    assert f'"name": "{OAUTH_PROVIDER}"' in source
    assert "AUTH_TYPE = AUTH_OAUTH" in source and "AUTH_ROLES_SYNC_AT_LOGIN = True" in source
    assert 'AUTH_USER_REGISTRATION_ROLE = "Public"' in source  # no group, no permission
