"""Alembic environment: the URL comes from the caller (clubflow.core.db.migrate), not a file."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from clubflow.core.db import get_engine
from domain import load_all_models
from domain.models import UTCDateTime

config = context.config
load_all_models()


def render_item(type_, obj, autogen_context):
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and obj.__class__.__name__ == "AutoString":
        return "sa.String()"
    return False


def run_migrations_online() -> None:
    engine = get_engine(config.attributes["database_url"])
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=SQLModel.metadata,
            render_as_batch=True,  # SQLite needs batch mode to alter tables
            render_item=render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
