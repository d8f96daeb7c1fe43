"""Delivery: versioned, immutable bundles of the analytics side (DAG files and dbt project).

- ``bundle``: what a bundle holds, its content digest (its version) and its deterministic archive (standard library only).
- ``build``: building the bundle of a Git commit.
- ``git``: the commit a ref names and its ``analytics/`` tree.
- ``dag_check``: importing a bundle's DAG files with Airflow's DagBag, in a subprocess.
- ``store``: the ``BundleStore`` interface and its two implementations, an S3 bucket and a local folder.
- ``fetch``: a version fetched into a folder, verified, whole or not at all.
- ``publish``: publish, list, roll back and prune versions.
- ``settings``: ``DATAOPS_BUNDLE_STORE`` and ``DATAOPS_BUNDLE_RETENTION``.

The ``dataops publish``, ``versions`` and ``rollback`` commands are in
``dataops.cli.delivery``. Airflow reading bundles comes next; it will use
``fetch_bundle`` and supply ``publish.prune`` with the versions its runs use.
"""
