"""What dbt did in each DAG run, read back: one run's timeline, the models' history.

Plain Python on plain data (the reports the ``dbt_build`` task and the model
tasks leave in Airflow's XCom): the Airflow plugin (dataops.airflow.ui) and the
``dataops runs`` command both draw from here.
"""
