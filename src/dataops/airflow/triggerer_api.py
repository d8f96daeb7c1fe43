"""The triggerer's in-process Execution API is built for its runner's API version alone.

Airflow 3.3.2's triggerer answers its trigger runner's requests (XComs, task
states, variables) with the Task Execution API, served in its own process
(``triggerer_job_runner.in_process_api_server``). On the first request,
Cadwyn builds that API's routes for every version the API has ever had (nine
in 3.3.2): about 5 CPU-seconds at every start of a triggerer, measured on a
2-core machine, a quarter of a small stack's triggerer time. Its one client
is the runner, the Task SDK of the same installation, which always sends its
own version (``API_VERSION``, the newest): the other eight are never asked for.

The fix builds the in-process app with that one version. The newest version
is what Airflow's head schemas describe, so requests and replies are the
same as before. The API server's Execution API (for workers, which may run
another Task SDK during an upgrade) keeps every version: the fix replaces
only the triggerer's ``in_process_api_server``, which only the triggerer's
supervisor calls.

:func:`install` checks the Airflow code it relies on (:data:`RELIES_ON`)
and that the Task SDK's version is the API's newest; otherwise it logs why
and leaves Airflow as it is (correct, only slower to start), and
``tests/airflow/test_triggerer_api.py`` fails naming what changed.
"""

from __future__ import annotations

import logging
import threading

from dataops.airflow import patching

log = logging.getLogger(__name__)

TRIGGERER_MODULE = "airflow.jobs.triggerer_job_runner"
# sha256 of each function's source as of the pinned Airflow (dataops.airflow.patching): the
# triggerer's factory of its in-process API, the class that builds and caches its app, the
# function that reads the versions module's ``bundle`` and the routes module's router when it
# creates the app, and how Cadwyn marks a route kept for older versions only.
RELIES_ON = {
    "airflow.jobs.triggerer_job_runner:in_process_api_server": "40bd80393ce624db4719d810ac64589005a126ecda3f4e31b377624ba54bac09",
    "airflow.api_fastapi.execution_api.app:InProcessExecutionAPI": "07764c9086695ecc74d981b9cef84d216b0b80d3c9004a2681059993395b573c",
    "airflow.api_fastapi.execution_api.app:create_task_execution_api_app": "d1f969e0ef3c23cdba3ab5cce9cb4410c0a2072f9bfa2eed320d3ea74f3a9134",
    "cadwyn.route_generation:VersionedAPIRouter.only_exists_in_older_versions": "26e46f3219c5a9d7bf465de9be86ec8c3b57a193d28ea3edef30b474bd2f9b4e",
}
_PATCHED = "__dataops_one_version_api__"
# The versions module's bundle is swapped while the app is created: one creation at a time.
_creating = threading.Lock()


def sdk_api_version() -> str:
    """The Execution API version the installed Task SDK sends with every request."""
    from airflow.sdk.api.datamodels._generated import API_VERSION

    return str(API_VERSION)


def changed_internals() -> list[str]:
    """What differs from the Airflow this fix was written for: empty when it applies."""
    found = patching.changed(RELIES_ON)
    if not found:
        from airflow.api_fastapi.execution_api.versions import bundle

        newest = str(bundle.versions[0].value)
        if newest != sdk_api_version():
            found.append(f"the Task SDK sends API version {sdk_api_version()}, the API's newest is {newest}")
    return found


def one_version_api():
    """Airflow's ``InProcessExecutionAPI`` with its app built for the Task SDK's version alone.

    While the app is created, the versions module's bundle holds that one version (the newest
    version changes nothing against Airflow's head schemas, so it needs no changes of its own),
    and the routes module's router leaves out the routes kept for older versions only
    (Cadwyn refuses a route that no version serves).
    """
    import copy

    from cadwyn import HeadVersion, Version, VersionBundle
    from cadwyn.route_generation import _DELETED_ROUTE_TAG

    from airflow.api_fastapi.execution_api import routes, versions
    from airflow.api_fastapi.execution_api.app import InProcessExecutionAPI

    api = InProcessExecutionAPI()
    with _creating:
        every, router = versions.bundle, routes.execution_api_router
        current = copy.copy(router)
        current.routes = [r for r in router.routes if _DELETED_ROUTE_TAG not in (getattr(r, "tags", None) or ())]
        versions.bundle = VersionBundle(HeadVersion(), Version(sdk_api_version()))
        routes.execution_api_router = current
        try:
            api.app  # noqa: B018  (built now and cached, from the bundle and router above)
        finally:
            versions.bundle, routes.execution_api_router = every, router
    return api


def patch(module) -> bool:
    """Replace ``in_process_api_server`` of the triggerer's ``module``; False when it must not."""
    if getattr(module.in_process_api_server, _PATCHED, False):
        return True
    found = changed_internals()
    if found:
        patching.refuse(__name__, found, "The triggerer builds its in-process API for every API version at start.")
        return False

    def in_process_api_server():
        return one_version_api()

    in_process_api_server.__wrapped__ = module.in_process_api_server
    setattr(in_process_api_server, _PATCHED, True)
    module.in_process_api_server = in_process_api_server
    log.info("dataops: the triggerer's in-process API is built for API version %s alone (%s)",
             sdk_api_version(), __name__)
    return True


def install() -> None:
    """Apply the fix in this process: now if the triggerer's module is loaded, else when it is."""
    patching.on_import(TRIGGERER_MODULE, patch)
