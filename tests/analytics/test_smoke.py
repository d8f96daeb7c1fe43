"""``dataops smoke``, the check an operator runs once after deploying to
Redshift, exercised on PostgreSQL (``--via dbt``: the DAG path needs Airflow
and is the demo's). What PostgreSQL cannot show (COPY, IAM, materialized views
on Redshift) is listed in the README's "Redshift notes"."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from dataops.cli.main import main
from dataops.config import load_settings
from dataops.local.smoke import check_models
from dataops.tickit.answers import expected_row_counts
from dataops.tickit.generator import generate

from .expected import compute

SCALE = 0.05


def test_expected_counts_agree_with_the_independent_answers(tmp_path):
    generate(tmp_path, scale=SCALE, seed=7)
    counts = expected_row_counts(tmp_path)
    answers = compute(tmp_path)
    assert counts == {
        "all_gross_sales_model": len(answers.gross_by_event),
        "percentile_sales_model": len(answers.percentile_by_event),
        "top_sales_99.9_percentile_model": len(answers.top_events),
        "top_buyers_by_quantity_model": len(answers.top_buyers),
        "top_buyer_data_model": len(answers.top_buyer_names),
    }
    assert counts["top_buyers_by_quantity_model"] == 10 and counts["top_sales_99.9_percentile_model"] >= 1


@pytest.mark.services
def test_smoke_passes_on_postgres_and_names_a_model_that_differs(postgres_db, monkeypatch, tmp_path):
    import psycopg

    monkeypatch.chdir(tmp_path)
    for name, value in {**postgres_db.env, "DATAOPS_TARGET": "postgres", "DATAOPS_STATE_DIR": str(tmp_path),
                        "DATAOPS_SEED": "7", "DATAOPS_MATERIALIZATION": "materialized_view"}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(main, ["smoke", "--via", "dbt", "--scale", f"{SCALE:g}"])
    assert result.exit_code == 0, result.output
    assert "Smoke test passed" in result.output and "DIFFERS" not in result.output

    settings = load_settings()
    with psycopg.connect(postgres_db.conninfo, autocommit=True) as conn:
        # Materialized views, as the smoke run built them (the mode Redshift is strictest about).
        kinds = conn.execute("select count(*) from pg_matviews where schemaname = 'analytics'").fetchone()[0]
        assert kinds == 5
        conn.execute('drop materialized view analytics.top_buyer_data_model')
        conn.execute('create table analytics.top_buyer_data_model as select 1 as x')
    checked = check_models(settings, settings.data_dir)
    assert checked.mismatches == ["model top_buyer_data_model: 1 rows, expected 10"]
