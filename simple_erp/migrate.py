"""Bring the database schema to the latest Alembic revision (run on app start)."""

from __future__ import annotations

import threading

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from simple_erp.config import PROJECT_ROOT, get_settings
from simple_erp.db import get_engine

_lock = threading.Lock()
_done = False
# Serialises concurrent upgrades by several workers on PostgreSQL.
_PG_LOCK_ID = 7_214_301


def alembic_config(url: str | None = None) -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().resolved_database_url()).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None) -> None:
    """Upgrade to every head (branches made in parallel are merged later by a merge revision). With PostgreSQL, an advisory lock keeps workers from racing."""
    cfg = alembic_config(url)
    if cfg.get_main_option("sqlalchemy.url").startswith("postgresql"):
        from sqlalchemy import create_engine

        engine = create_engine(cfg.get_main_option("sqlalchemy.url"))
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT pg_advisory_lock(:id)"), {"id": _PG_LOCK_ID})
                try:
                    cfg.attributes["connection"] = conn
                    command.upgrade(cfg, "heads")
                    conn.commit()
                finally:
                    conn.rollback()  # after a failed upgrade: else the unlock fails and hides its error
                    conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _PG_LOCK_ID})
                    conn.commit()
        finally:
            engine.dispose()
        return
    command.upgrade(cfg, "heads")


def upgrade_once() -> None:
    global _done
    with _lock:
        if not _done:
            upgrade()
            get_engine().dispose()
            _done = True
