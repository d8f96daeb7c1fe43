"""A small tour of Airflow 3 task types: Python, Bash, a branch and a sensor.

Runs triggered by hand in Airflow 3 may have no logical date (and so no
``ds``); the tasks here use ``dag_run.run_after``, which every run has.
"""

from datetime import datetime, timedelta

from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.sensors.python import PythonSensor
from airflow.sdk import DAG, task


def _run_day(context) -> datetime:
    dag_run = context["dag_run"]
    return dag_run.logical_date or dag_run.run_after


with DAG(
    dag_id="example_dag",
    description="Example tasks: Python, Bash, branch, sensor",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    tags=["example"],
    doc_md=__doc__,
) as dag:

    @task
    def describe_run(**context) -> str:
        day = _run_day(context)
        print(f"run {context['run_id']} for {day:%Y-%m-%d}")
        return day.strftime("%A")

    @task.branch
    def weekday_or_weekend(day_name: str) -> str:
        return "weekend" if day_name in ("Saturday", "Sunday") else "weekday"

    wait_a_moment = PythonSensor(
        task_id="wait_a_moment",
        python_callable=lambda: True,
        poke_interval=1,
        timeout=timedelta(minutes=1),
    )
    weekday = BashOperator(task_id="weekday", bash_command='echo "A weekday run"')
    weekend = BashOperator(task_id="weekend", bash_command='echo "A weekend run"')
    done = BashOperator(task_id="done", bash_command="echo done", trigger_rule="none_failed_min_one_success")

    day_name = describe_run()
    wait_a_moment >> day_name
    weekday_or_weekend(day_name) >> [weekday, weekend] >> done
