"""Small command-line tools behind the Makefile targets (run with infra/.venv)."""
