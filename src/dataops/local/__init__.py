"""The platform on one machine: Airflow's local home, the embedded and services
stacks, the demo, a REST client of a running Airflow (api.py) and the harness
that starts a private Airflow for the tests and the benchmark (harness.py)."""
