"""Schema changes go through migrations; a database made by the first schema upgrades in place."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from clubflow.core.db import (
    alembic_config,
    current_revision,
    get_engine,
    head_revision,
    migrate,
)
from domain import load_all_models


def _head(url: str) -> str:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def test_the_migrated_schema_equals_the_models(any_db_url):
    migrate(any_db_url)
    load_all_models()
    with get_engine(any_db_url).connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": False}), SQLModel.metadata
        )
    assert diff == [], f"models and migrations differ: {diff}"


def test_a_database_of_the_first_schema_upgrades_in_place_keeping_its_rows(any_db_url):
    command.upgrade(alembic_config(any_db_url), "0001")
    engine = get_engine(any_db_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO region (code, name, name_zh, signature_crossing,"
                " signature_crossing_zh, terrain, seasons) VALUES ('chengdu', 'Chengdu', '成都卫',"
                " 'rainforest crossing', '雨林穿越', 'rainforest', '[\"spring\"]')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO notification (idem_key, recipient, template, context, title, body,"
                " urgent, status, attempts, delivered_channels, created_at, next_attempt_at)"
                " VALUES ('k1', 'role:it', 't', '{}', 'title', 'body', false, 'pending', 0, '[]',"
                " :now, :now)"
            ),
            {"now": datetime(2026, 1, 1, tzinfo=UTC)},
        )

    migrate(any_db_url)

    assert current_revision(any_db_url) == _head(any_db_url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT name_zh FROM region")).scalar_one() == "成都卫"
        assert conn.execute(sa.text("SELECT idem_key FROM notification")).scalar_one() == "k1"


def test_the_revisions_read_without_alembic_are_alembics(sqlite_url):
    # Every command's schema check reads them without importing alembic.
    assert current_revision(sqlite_url) is None
    migrate(sqlite_url)
    assert head_revision() == _head(sqlite_url)
    with get_engine(sqlite_url).connect() as conn:
        recorded = MigrationContext.configure(conn).get_current_revision()
    assert current_revision(sqlite_url) == recorded == head_revision()


def test_migrating_twice_changes_nothing(sqlite_url):
    migrate(sqlite_url)
    first = current_revision(sqlite_url)
    migrate(sqlite_url)
    assert current_revision(sqlite_url) == first
