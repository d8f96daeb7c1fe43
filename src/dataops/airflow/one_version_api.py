"""The Execution API built for the installed Task SDK's version alone, where that is its one client.

Airflow 3.3.2 serves the Task Execution API (XComs, task states, variables) with
Cadwyn, which builds its routes for every version the API has ever had (nine in
3.3.2) on the first request: about 5 CPU-seconds and 40 MB at each start of the
process that serves it, measured on a 2-core machine. Two processes serve it:

- the triggerer, in-process, to its trigger runner
  (``triggerer_job_runner.in_process_api_server``). Its one client is the Task
  SDK of the same installation, which always sends its own version
  (``API_VERSION``, the newest): the fix applies there always;
- the API server, to the task processes of the workers. On AWS a worker may run
  another image's Task SDK during an upgrade, so the image's API server keeps
  every version. A local stack runs every process from one installation: its API
  server is built for one version too (:data:`LOCAL_STACK_VARIABLE`, set by
  dataops.local.airflow_env).

The newest version is what Airflow's head schemas describe, so requests and
replies are the same as before.

:func:`install` checks the Airflow code it relies on (:data:`RELIES_ON`)
and that the Task SDK's version is the API's newest; otherwise it logs why
and leaves Airflow as it is (correct, only slower to start), and
``tests/airflow/test_one_version_api.py`` fails naming what changed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from dataops.airflow import patching

log = logging.getLogger(__name__)

TRIGGERER_MODULE = "airflow.jobs.triggerer_job_runner"
API_SERVER_MODULE = "airflow.api_fastapi.app"
# Set ("true") in every process of a local stack: the API server's clients are all this installation's.
LOCAL_STACK_VARIABLE = "DATAOPS_EXECUTION_API_ONE_VERSION"
# sha256 of each function's source as of the pinned Airflow (dataops.airflow.patching), per
# process, so that each reads only its own modules: the function that reads the versions
# module's ``bundle`` and the routes module's router when it creates the app, and how Cadwyn
# marks a route kept for older versions only; the triggerer's factory of its in-process API and
# the class that builds and caches its app; the API server's app factory, which calls the
# Execution API's factory by its module-level name.
RELIES_ON_BOTH = {
    "airflow.api_fastapi.execution_api.app:create_task_execution_api_app": "d1f969e0ef3c23cdba3ab5cce9cb4410c0a2072f9bfa2eed320d3ea74f3a9134",
    "cadwyn.route_generation:VersionedAPIRouter.only_exists_in_older_versions": "26e46f3219c5a9d7bf465de9be86ec8c3b57a193d28ea3edef30b474bd2f9b4e",
}
RELIES_ON = {
    TRIGGERER_MODULE: {
        **RELIES_ON_BOTH,
        "airflow.jobs.triggerer_job_runner:in_process_api_server": "40bd80393ce624db4719d810ac64589005a126ecda3f4e31b377624ba54bac09",
        "airflow.api_fastapi.execution_api.app:InProcessExecutionAPI": "07764c9086695ecc74d981b9cef84d216b0b80d3c9004a2681059993395b573c",
    },
    API_SERVER_MODULE: {
        **RELIES_ON_BOTH,
        "airflow.api_fastapi.app:create_app": "2f95c1deb35c5ced1b89798d428500c4849d5183c9e69f14f0cab330bea9da16",
    },
}
_PATCHED = "__dataops_one_version_api__"
# The versions module's bundle is swapped while the app is created: one creation at a time.
_creating = threading.Lock()


def sdk_api_version() -> str:
    """The Execution API version the installed Task SDK sends with every request."""
    from airflow.sdk.api.datamodels._generated import API_VERSION

    return str(API_VERSION)


def changed_internals(process: str = TRIGGERER_MODULE) -> list[str]:
    """What differs from the Airflow this fix was written for, in ``process`` (the triggerer's or
    the API server's module): empty when it applies."""
    found = patching.changed(RELIES_ON[process])
    if not found:
        from airflow.api_fastapi.execution_api.versions import bundle

        newest = str(bundle.versions[0].value)
        if newest != sdk_api_version():
            found.append(f"the Task SDK sends API version {sdk_api_version()}, the API's newest is {newest}")
    return found


@contextmanager
def one_version() -> Iterator[None]:
    """While an Execution API app is created in it, the app is built for the Task SDK's version alone.

    The versions module's bundle holds that one version (the newest version changes nothing
    against Airflow's head schemas, so it needs no changes of its own), and the routes module's
    router leaves out the routes kept for older versions only (Cadwyn refuses a route that no
    version serves).
    """
    import copy

    from cadwyn import HeadVersion, Version, VersionBundle
    from cadwyn.route_generation import _DELETED_ROUTE_TAG

    from airflow.api_fastapi.execution_api import routes, versions

    with _creating:
        every, router = versions.bundle, routes.execution_api_router
        current = copy.copy(router)
        current.routes = [r for r in router.routes if _DELETED_ROUTE_TAG not in (getattr(r, "tags", None) or ())]
        versions.bundle = VersionBundle(HeadVersion(), Version(sdk_api_version()))
        routes.execution_api_router = current
        try:
            yield
        finally:
            versions.bundle, routes.execution_api_router = every, router


def one_version_api():
    """Airflow's ``InProcessExecutionAPI`` with its app built for the Task SDK's version alone."""
    from airflow.api_fastapi.execution_api.app import InProcessExecutionAPI

    api = InProcessExecutionAPI()
    with one_version():
        api.app  # noqa: B018  (built now and cached, for the one version)
    return api


def _refused(process: str, what: str) -> bool:
    found = changed_internals(process)
    if found:
        patching.refuse(__name__, found, f"{what} builds its Execution API for every API version at start.")
    return bool(found)


def patch(module) -> bool:
    """Replace ``in_process_api_server`` of the triggerer's ``module``; False when it must not."""
    if getattr(module.in_process_api_server, _PATCHED, False):
        return True
    if _refused(TRIGGERER_MODULE, "The triggerer"):
        return False

    def in_process_api_server():
        return one_version_api()

    in_process_api_server.__wrapped__ = module.in_process_api_server
    setattr(in_process_api_server, _PATCHED, True)
    module.in_process_api_server = in_process_api_server
    log.info("dataops: the triggerer's in-process API is built for API version %s alone (%s)",
             sdk_api_version(), __name__)
    return True


def patch_api_server(module) -> bool:
    """Build the Execution API of the API server's ``module`` (airflow.api_fastapi.app) for one
    version; False when it must not."""
    if getattr(module.create_task_execution_api_app, _PATCHED, False):
        return True
    if _refused(API_SERVER_MODULE, "The API server"):
        return False
    every_version = module.create_task_execution_api_app

    def create_task_execution_api_app(*args, **kwargs):
        with one_version():
            return every_version(*args, **kwargs)

    create_task_execution_api_app.__wrapped__ = every_version
    setattr(create_task_execution_api_app, _PATCHED, True)
    module.create_task_execution_api_app = create_task_execution_api_app
    log.info("dataops: the API server's Execution API is built for API version %s alone, the version of "
             "every process of this local stack (%s)", sdk_api_version(), __name__)
    return True


def local_stack() -> bool:
    return os.environ.get(LOCAL_STACK_VARIABLE, "").lower() == "true"


def install() -> None:
    """Apply the fix in this process: to the triggerer always, to a local stack's API server; each
    now if its module is loaded, else when it is."""
    patching.on_import(TRIGGERER_MODULE, patch)
    if local_stack():
        patching.on_import(API_SERVER_MODULE, patch_api_server)
