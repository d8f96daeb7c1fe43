"""The platform on one machine: Airflow's local home, the demo, the UI."""
