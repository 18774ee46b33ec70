"""PostgreSQL for these tests: a fresh schema per test on the server ``FSM_TEST_POSTGRES_URL``
names (``.ci/run`` starts one and sets it). Without it every test here skips, saying how to run
them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import pytest

HOW_TO_RUN = (
    "PostgreSQL tests need a server: set FSM_TEST_POSTGRES_URL=postgresql://USER@HOST:PORT/DB"
    " (e.g. start one with pg_ctl, or run .ci/run, which starts one and sets the variable)"
)


def server_url() -> str:
    url = os.environ.get("FSM_TEST_POSTGRES_URL")
    if not url:
        if os.environ.get("CI"):
            pytest.fail("CI must run the PostgreSQL tests: " + HOW_TO_RUN)
        pytest.skip(HOW_TO_RUN)
    return url


def scoped(url: str, schema: str) -> str:
    """``url`` with its ``search_path`` set to ``schema``, so the store's tables land there."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options={quote(f'-c search_path={schema}')}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A URL whose tables live in a new, empty schema, dropped after the test."""
    url = server_url()
    import psycopg
    from psycopg import sql

    schema = f"fsm_test_{uuid.uuid4().hex}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        try:
            yield scoped(url, schema)
        finally:
            admin.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
