"""``dataops ci``: the analysts' check of a change before merge, the same locally and in CI.

One module per job: ``naming`` (the run's own schema), ``state`` (production's
manifest), ``changes`` (what changed, by dbt's ``state:modified``), ``lint``
(sqlfluff), ``dags`` (the DAG files import), ``schema`` (the throwaway
schemas, dropped whatever happens), ``build`` (Slim CI's ``dbt build``),
``summary`` (the report, and GitHub's step summary) and ``run`` (the steps in
order). It may import dbt, delivery, warehouses and the core; never Airflow
(the DAG check runs Airflow in a subprocess), the local stacks or the CLI.
"""
