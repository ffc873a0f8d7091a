"""One process at a time for a periodic job (the Mollie reconciliation, the Relances
scheduler): on PostgreSQL a session-level advisory lock held by a connection of its own,
released by the server if the process dies; SQLite runs a single process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import text
from sqlmodel import Session


@contextmanager
def exclusive(session_factory: Callable[[], Session], lock_id: int) -> Iterator[bool]:
    """Yields True when this process holds ``lock_id`` now (never waits for it)."""
    with session_factory() as session:
        engine = session.get_bind()
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect() as conn:
        got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": lock_id}).scalar())
        conn.commit()
        try:
            yield got
        finally:
            if got:
                conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})
                conn.commit()
