"""Database objects that migrations create with raw SQL, outside SQLModel's metadata.

Alembic's autogenerate compares the database with the models and would propose to
drop these (the SQLite FTS5 contact index and its shadow tables, the PostgreSQL
trigram index). ``include_object`` tells Alembic to leave them alone; ``alembic/env.py``
passes it, and :func:`filter_reflex_autogenerate` makes Reflex's own schema check
(``reflex run``'s "Detected database schema changes", ``reflex db makemigrations``)
use it too, since Reflex configures Alembic without our env.py.
"""

from __future__ import annotations

from typing import Any

# Tables created by raw SQL (SQLite FTS5 virtual table) and the shadow tables SQLite
# makes for each of them.
RAW_SQL_TABLES = frozenset({"contact_search", "document_search_fts"})
FTS5_SHADOW_SUFFIXES = ("_data", "_idx", "_content", "_docsize", "_config")
# Indexes created by raw SQL (PostgreSQL pg_trgm GIN index).
RAW_SQL_INDEXES = frozenset({"ix_contact_search_trgm", "ix_document_search_trgm"})


def is_raw_sql_table(name: str | None) -> bool:
    if not name:
        return False
    if name in RAW_SQL_TABLES:
        return True
    return any(name == table + suffix for table in RAW_SQL_TABLES for suffix in FTS5_SHADOW_SUFFIXES)


# Columns NOT NULL in the models that SQLite keeps nullable in the table (making them NOT
# NULL needs a table rebuild, which drops triggers); a trigger refuses NULL there instead
# (migration b14f1c0d0002). Compared normally wherever the table has them NOT NULL.
SQLITE_NULLABLE_COLUMNS = frozenset({("payment", "company_id")})


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic ``include_object`` hook: skip what raw SQL owns, compare the rest."""
    if (type_ == "column" and compare_to is not None and compare_to.nullable and not obj.nullable
            and (getattr(obj.table, "name", None), name) in SQLITE_NULLABLE_COLUMNS):
        return False
    if not reflected or compare_to is not None:
        return True  # in the models: always compared
    if type_ == "table":
        return not is_raw_sql_table(name)
    if type_ == "index":
        return name not in RAW_SQL_INDEXES
    return True


def filter_reflex_autogenerate() -> None:
    """Make Reflex's autogenerate (schema check, makemigrations) skip raw-SQL objects.

    Reflex calls ``EnvironmentContext.configure`` itself, without an
    ``include_object``; this wraps ``configure`` once so that a call without one gets
    ours. Calls that pass their own hook (our env.py) are left as they are.
    """
    from alembic.runtime.environment import EnvironmentContext

    configure = EnvironmentContext.configure
    if getattr(configure, "_simple_erp_filtered", False):
        return

    def configure_with_filter(self, *args, **kwargs):
        kwargs.setdefault("include_object", include_object)
        return configure(self, *args, **kwargs)

    configure_with_filter._simple_erp_filtered = True  # type: ignore[attr-defined]
    EnvironmentContext.configure = configure_with_filter  # type: ignore[method-assign]
