"""The services stack's refusals read as the user's sentences: the driver's
own punctuation does not double up with ours."""

from __future__ import annotations

import pytest

from dataops.local.services.preflight import driver_problem


@pytest.mark.parametrize(
    ("driver_says", "expected"),
    [
        ("connection failed: Is the server running and accepting TCP/IP connections?",
         "connection failed: Is the server running and accepting TCP/IP connections"),
        ("Error 111 connecting to 127.0.0.1:6379. Connection refused.", "Error 111 connecting to 127.0.0.1:6379. Connection refused"),
        ("first line.\nsecond line", "first line"),
        ("", "OSError"),
    ],
)
def test_the_drivers_problem_ends_where_our_sentence_begins(driver_says, expected):
    assert driver_problem(OSError(driver_says) if driver_says else OSError()) == expected
