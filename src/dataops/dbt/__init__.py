"""Running dbt projects: where they are, how dbt is invoked, what it reported."""

from dataops.dbt.project import DbtProject
from dataops.dbt.results import NodeResult, RunResults
from dataops.dbt.runner import DbtInvocation, DbtRunner

__all__ = ["DbtInvocation", "DbtProject", "DbtRunner", "NodeResult", "RunResults"]
