"""What the images really hold, and that a published bundle runs on them with nothing else.

Each image's file set is assembled from its Dockerfile's COPY lines and its
``.dockerignore`` (``image_files``) into a temporary image root. Then:

- the Airflow image holds no ``analytics/`` and no dbt artifact;
- the Airflow side, with only the image's ``src`` on its path (the checkout's
  package is not importable), imports every DAG of a published bundle through
  Airflow's ``BundleDagBag``, the DAGs' dbt tasks point into the bundle, and no
  file outside the image root, the bundle and the Python environments is read;
- the dbt side, the image's entrypoint with the dbt environment, fetches the
  bundle from a store and builds the TICKIT project on DuckDB from it alone;
- the graph artifact the DAGs read is in the bundle (the old images lacked it:
  the DAG did not load on AWS).

No Docker engine is needed: the Python environments stand in for the images'
installed requirements (the same pinned locks, infra/tests/test_images.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dataops.delivery.fetch import fetch_bundle
from dataops.delivery.store import LocalBundleStore, StoredBundle

sys.path.insert(0, str(Path(__file__).resolve().parent))
from image_files import DockerIgnore, context_files, image_files, materialize  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
AIRFLOW_DOCKERFILE = REPO / "infra/images/airflow/Dockerfile"
DBT_DOCKERFILE = REPO / "infra/images/dbt/Dockerfile"
PACKAGE_SRC = "opt/dataops/package/src"  # where both images install the dataops package from
MARKER = "image-check:"
# Platform DAGs the TICKIT bundle holds.
BUNDLE_DAGS = {"example_dag", "redshift_transformations"}
# System folders a Python process may read (time zones, locale, /proc): never a checkout.
SYSTEM = ("/dev", "/proc", "/sys", "/etc", "/usr", "/lib", "/lib64", "/bin", "/sbin", "/var/lib")


# -- the file sets -------------------------------------------------------------------------------


def test_docker_ignore_rules_are_dockers():
    ignore = DockerIgnore(["*", "!src/", "**/__pycache__", "*.pyc", "!src/keep/__pycache__/x"])
    assert ignore.excluded("README.md") and ignore.excluded("analytics/dags/a.py")
    assert not ignore.excluded("src/dataops/__init__.py")  # re-included below an excluded root
    assert ignore.excluded("src/dataops/__pycache__/a.cpython-311.pyc")  # ** at any depth
    assert ignore.excluded("x.pyc") and not ignore.excluded("src/x.pyc")  # no slash: the root only (not Git's rule)
    assert not ignore.excluded("src/keep/__pycache__/x")  # the last matching line wins
    assert DockerIgnore(["/analytics/dbt/target/"]).excluded("analytics/dbt/target/graph.json")


def test_airflow_image_holds_the_platform_and_no_analytics_code():
    placed = image_files(AIRFLOW_DOCKERFILE, REPO)
    sources = set(placed.values())
    assert "src/dataops/delivery/fetch.py" in sources and "requirements/platform.txt" in sources
    assert not [s for s in sources if s.startswith("analytics/")]
    assert not [p for p in placed if "/target/" in p or p.endswith(("dataops_graph.json", "manifest.json"))]
    assert not [p for p in placed if p.startswith("/opt/airflow/dags")]


def test_the_airflow_image_installs_the_platforms_plugin_from_the_folder_the_local_stacks_load():
    """One plugin, dataops.airflow.ui.plugin, through Airflow's plugins folder: the image copies the
    package's plugins folder to /opt/airflow/plugins (Airflow's default there), and every local Airflow
    (embedded and services stacks, the tests') is given that same folder."""
    from dataops import paths
    from dataops.local.airflow_env import DagSource, airflow_env

    placed = image_files(AIRFLOW_DOCKERFILE, REPO)
    plugins = {path: source for path, source in placed.items() if path.startswith("/opt/airflow/plugins/")}
    assert plugins == {"/opt/airflow/plugins/dataops_plugin.py": "src/dataops/airflow/ui/plugins_folder/dataops_plugin.py"}
    assert paths.plugins_folder() == (REPO / "src/dataops/airflow/ui/plugins_folder").resolve()
    env = airflow_env({}, home=Path("/h"), dags=DagSource(), api_port=1, passwords_file=Path("/p"),
                      state_dir=Path("/s"), dbt_env={})
    assert env["AIRFLOW__CORE__PLUGINS_FOLDER"] == str(paths.plugins_folder())
    assert sorted(p.name for p in paths.plugins_folder().iterdir() if p.suffix == ".py") == ["dataops_plugin.py"]


def test_the_tests_airflow_loads_only_the_plugins_and_policies_the_image_installs():
    """Every Airflow process the tests start loads the entry-point plugins and cluster
    policies of the environment's packages: they must be the image's (requirements/
    platform.txt), or the tests run another Airflow than the one that ships."""
    import re
    from importlib.metadata import entry_points

    def canonical(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    pinned = {canonical(line.split("==")[0]) for line in (REPO / "requirements/platform.txt").read_text().splitlines()
              if "==" in line and not line.startswith((" ", "#"))}
    loaded = {(group, ep.name, canonical(ep.dist.name)) for group in ("airflow.plugins", "airflow.policy")
              for ep in entry_points(group=group)}
    assert {entry for entry in loaded if entry[2] not in pinned} == set()


def test_the_airflow_images_sign_in_settings_load_with_its_pinned_fab(image_roots):
    """The FAB auth manager the CDK app configures imports from the platform's pinned
    environment, and the image's webserver_config.py, as the image holds it, loads
    and maps an identity provider's groups to Airflow roles."""
    import ast
    import importlib
    import runpy

    constants = {
        node.targets[0].id: node.value.value
        for node in ast.parse((REPO / "infra/dataops_infra/constructs/airflow_configuration.py").read_text()).body
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and isinstance(node.targets[0], ast.Name)
    }
    module, _, name = constants["FAB_AUTH_MANAGER"].rpartition(".")
    assert getattr(importlib.import_module(module), name).__name__ == name
    config_file = image_roots["airflow"] / constants["FAB_CONFIG_FILE"].lstrip("/")
    env = {"DATAOPS_OIDC_ISSUER": "https://cognito-idp.eu-west-1.amazonaws.com/pool", "DATAOPS_OIDC_CLIENT_ID": "app"}
    with pytest.MonkeyPatch.context() as mp:
        for key, value in env.items():
            mp.setenv(key, value)
        config = runpy.run_path(str(config_file))
    from airflow.providers.fab.auth_manager.security_manager.override import FabAirflowSecurityManagerOverride

    assert issubclass(config["SECURITY_MANAGER_CLASS"], FabAirflowSecurityManagerOverride)
    (provider,) = config["OAUTH_PROVIDERS"]
    assert provider["remote_app"]["server_metadata_url"] == f"{env['DATAOPS_OIDC_ISSUER']}/.well-known/openid-configuration"
    user = config["user_info"]({"email": "ana@example.com", "cognito:groups": ["airflow-op"]})
    assert user["username"] == "ana@example.com" and [config["AUTH_ROLES_MAPPING"][g] for g in user["role_keys"]] == [["Op"]]


def test_dbt_image_holds_the_entrypoint_and_package_and_no_project():
    placed = image_files(DBT_DOCKERFILE, REPO)
    assert placed["/opt/dataops/bin/dbt-entrypoint"] == "infra/images/dbt/entrypoint.py"
    assert placed[f"/{PACKAGE_SRC}/dataops/delivery/fetch.py"] == "src/dataops/delivery/fetch.py"
    assert not [s for s in placed.values() if s.startswith("analytics/") or s.endswith("dbt_project.yml")]


def test_the_build_context_sends_nothing_but_what_is_copied():
    for dockerfile in (AIRFLOW_DOCKERFILE, DBT_DOCKERFILE):
        sent = context_files(REPO, DockerIgnore.read(dockerfile.with_name("Dockerfile.dockerignore")))
        assert sent == set(image_files(dockerfile, REPO).values()), dockerfile


# -- a published bundle on the images ------------------------------------------------------------


@pytest.fixture(scope="module")
def image_roots(tmp_path_factory) -> dict[str, Path]:
    roots = {}
    for name, dockerfile in (("airflow", AIRFLOW_DOCKERFILE), ("dbt", DBT_DOCKERFILE)):
        roots[name] = tmp_path_factory.mktemp(f"image-{name}")
        materialize(dockerfile, REPO, roots[name])
    return roots


@pytest.fixture(scope="module")
def published(built_first, tmp_path_factory) -> tuple[LocalBundleStore, str]:
    """The TICKIT bundle of the analytics repository's first commit, in a folder store."""
    store = LocalBundleStore(tmp_path_factory.mktemp("store"))
    stored = StoredBundle(built_first.info, "2026-01-01T00:00:00+00:00", "ci")
    store.put_bundle(stored, built_first.archive)
    return store, built_first.info.version


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    """A process environment with nothing of the developer's: no DATAOPS_*, PYTHONPATH or .env."""
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(home), "TMPDIR": str(tmp), "LANG": "C.UTF-8"}
    return {**env, **extra}


# Runs in the image's stead: only the image's src (and the environment's site-packages) on the
# path, every file opened recorded, then the given code. `-I` ignores PYTHONPATH and the like.
BOOT = """
import json, os, sys
image_src, checkouts = sys.argv[1], json.loads(sys.argv[2])
inside = lambda p, roots: any(p == r or p.startswith(r + os.sep) for r in roots)
# The image has none of the checkouts' folders (an editable install's path entry, say).
sys.path[:] = [image_src] + [p for p in sys.path if p and not inside(os.path.realpath(p), checkouts)
                             or ".venv" in p]
opened = set()
def audit(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        opened.add(os.path.realpath(os.fsdecode(args[0])))
sys.addaudithook(audit)
"""

DAGBAG = BOOT + """
from airflow.dag_processing.dagbag import BundleDagBag
dags_dir = sys.argv[3]
bag = BundleDagBag(dag_folder=dags_dir, bundle_path=dags_dir)
import dataops
from airflow import plugins_manager
plugins, plugin_errors = plugins_manager._get_plugins()
from dataops.airflow.ui.app import app  # what the API server mounts on the first request
report = {
    "plugins": {p.name: sorted(v["url_route"] for v in p.external_views) for p in plugins},
    "plugin_errors": {str(k): str(v) for k, v in plugin_errors.items()},
    "plugin_routes": sorted(r.path for r in app.routes),
    "dataops": os.path.realpath(dataops.__file__),
    "errors": dict(bag.import_errors),
    "dags": {dag.dag_id: sorted({str(getattr(t, "project_dir", None)) for t in dag.tasks
                                 if getattr(t, "project_dir", None)}) for dag in bag.dags.values()},
    "opened": sorted(opened),
    "stdlib": os.path.realpath(sys.base_prefix),
}
print(%r + json.dumps(report), flush=True)
""" % MARKER

ENTRYPOINT = BOOT + """
import atexit, runpy
atexit.register(lambda: open(os.environ["OPENED_REPORT"], "w").write(
    json.dumps({"opened": sorted(opened), "stdlib": os.path.realpath(sys.base_prefix)})))
sys.argv = [sys.argv[3], *sys.argv[4:]]
try:
    runpy.run_path(sys.argv[0], run_name="__main__")
finally:
    import dataops
    print(%r + os.path.realpath(dataops.__file__), flush=True)
""" % MARKER


def checkouts() -> list[str]:
    """The folders a process must not read from: this checkout and the one the environment was installed from."""
    found = {os.path.realpath(REPO)}
    for venv in (".venv", ".venv-dbt"):
        found.add(os.path.dirname(os.path.realpath(REPO / venv)))
    return sorted(found)


def outside(paths: list[str], allowed: list[Path | str]) -> list[str]:
    """The ``paths`` read from anywhere but ``allowed``, the Python environments and system folders."""
    roots = [os.path.realpath(p) for p in allowed]
    venvs = [os.path.realpath(REPO / ".venv"), os.path.realpath(REPO / ".venv-dbt")]
    result = []
    for path in paths:
        if any(path == r or path.startswith(r + os.sep) for r in roots + venvs):
            continue
        if any(path.startswith(c + os.sep) for c in checkouts()):
            result.append(path)  # a checkout: never
        elif not path.startswith(SYSTEM):
            result.append(path)
    return result


@pytest.mark.slow
def test_airflow_image_imports_every_dag_of_a_published_bundle(image_roots, published, tmp_path):
    store, version = published
    bundle = tmp_path / "bundles" / version
    fetch_bundle(store, version, bundle)
    root = image_roots["airflow"]
    airflow_home = tmp_path / "airflow"
    work = tmp_path / "cwd"
    work.mkdir()
    env = clean_env(
        tmp_path,
        AIRFLOW_HOME=str(airflow_home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGS_FOLDER=str(bundle / "dags"),
        AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{airflow_home}/airflow.db",
        AIRFLOW__CORE__PLUGINS_FOLDER=str(root / "opt/airflow/plugins"),  # the image's (Airflow's default there)
    )
    done = subprocess.run(
        [str(REPO / ".venv/bin/python"), "-I", "-c", DAGBAG, str(root / PACKAGE_SRC), json.dumps(checkouts()),
         str(bundle / "dags")],
        cwd=work, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    assert lines, done.stderr[-3000:]
    report = json.loads(lines[-1][len(MARKER):])
    assert report["dataops"].startswith(os.path.realpath(root / PACKAGE_SRC) + os.sep)
    assert report["errors"] == {}
    # The platform's plugin loads from the image's plugins folder, with its views and its app's pages.
    assert report["plugin_errors"] == {}
    assert report["plugins"] == {"dataops": ["dbt-docs", "dbt-docs-run", "dbt-history", "dbt-timeline"]}
    assert {"/timeline/{dag_id}/{run_id}", "/api/history/{dag_id}", "/docs/{dag_id}/{run_id}/{name}"} <= set(
        report["plugin_routes"])
    assert set(report["dags"]) == BUNDLE_DAGS
    project_dirs = report["dags"]["redshift_transformations"]
    assert project_dirs and all(
        os.path.realpath(p).startswith(os.path.realpath(bundle) + os.sep) for p in project_dirs
    ), project_dirs
    # The graph the DAG read is the bundle's (and the audit hook sees what is read).
    assert os.path.realpath(bundle / "dbt/target/dataops_graph.json") in report["opened"]
    assert outside(report["opened"], [root, bundle, airflow_home, work, tmp_path, report["stdlib"]]) == []


def test_the_graph_artifact_travels_in_the_bundle_not_the_image(image_roots, published, tmp_path):
    """What the old images lacked (the DAG failed to import on AWS): the bundle carries it."""
    store, version = published
    bundle = tmp_path / "bundle"
    fetch_bundle(store, version, bundle)
    assert (bundle / "dbt/target/dataops_graph.json").is_file()
    assert (bundle / "dbt/target/manifest.json").is_file()
    assert not list(image_roots["airflow"].rglob("dataops_graph.json"))
    assert not list(image_roots["dbt"].rglob("dataops_graph.json"))


@pytest.fixture(scope="module")
def tickit_warehouse(tmp_path_factory) -> Path:
    """A DuckDB file with a small TICKIT sample loaded (the models' sources)."""
    import duckdb

    from dataops.tickit.files import table_files
    from dataops.tickit.generator import generate
    from dataops.tickit.loaders.duckdb import load_into

    work = tmp_path_factory.mktemp("warehouse")
    data = generate(work / "data", scale=0.01, seed=1).out_dir
    path = work / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    try:
        load_into(con, "tickit", table_files(data))
    finally:
        con.close()
    return path


@pytest.mark.slow
def test_dbt_image_builds_the_tickit_project_from_the_bundle_alone(image_roots, published, tickit_warehouse, tmp_path):
    store, version = published
    root = image_roots["dbt"]
    work = tmp_path / "cwd"
    work.mkdir()
    env = clean_env(
        tmp_path,
        PATH=f"{REPO / '.venv-dbt/bin'}:/usr/local/bin:/usr/bin:/bin",
        DATAOPS_BUNDLE_VERSION=version,
        DATAOPS_BUNDLE_STORE=store.location,
        DATAOPS_TARGET="duckdb",
        DATAOPS_DUCKDB_PATH=str(tickit_warehouse),
        DATAOPS_DBT_THREADS="2",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        OPENED_REPORT=str(tmp_path / "opened.json"),
    )
    done = subprocess.run(
        [str(REPO / ".venv-dbt/bin/python"), "-I", "-c", ENTRYPOINT, str(root / PACKAGE_SRC), json.dumps(checkouts()),
         str(root / "opt/dataops/bin/dbt-entrypoint"), "--no-use-colors", "build"],
        cwd=work, env=env, capture_output=True, text=True, timeout=600, check=False,
    )
    assert done.returncode == 0, (done.stdout[-3000:], done.stderr[-3000:])
    first = done.stdout.splitlines()[0]
    assert first.startswith(f"dbt-entrypoint: bundle {version} (commit {published_commit(store, version)[:12]}")
    assert done.stdout.splitlines()[-1] == MARKER + os.path.realpath(root / PACKAGE_SRC / "dataops/__init__.py")
    bundle = tmp_path / "dataops-bundles" / version
    results = json.loads((bundle / "dbt/target/run_results.json").read_text())
    built = {r["unique_id"] for r in results["results"] if r["status"] == "success"}
    assert "model.tickit.top_buyer_data_model" in built
    assert {r["status"] for r in results["results"]} <= {"success", "pass"}
    opened = json.loads((tmp_path / "opened.json").read_text())
    assert os.path.realpath(store.root / "bundles" / f"{version}.tar.gz") in opened["opened"]
    assert outside(opened["opened"], [root, bundle.parent, store.root, work, tmp_path, opened["stdlib"]]) == []


def published_commit(store: LocalBundleStore, version: str) -> str:
    return store.record(version).info.commit
