"""Reflex settings only; the database URL comes from simple_erp.config."""

import os
from pathlib import Path

import reflex as rx
from reflex_base.constants.installer import PackageJson

from simple_erp.config import PROJECT_ROOT, get_settings
from simple_erp.schema_objects import filter_reflex_autogenerate

# The dev frontend listens on loopback only (Reflex's default is every interface).
PackageJson.Commands.DEV = "react-router dev --host 127.0.0.1"

# Reflex's schema check and `reflex db makemigrations` leave the raw-SQL objects alone
# (SQLite FTS5 tables, PostgreSQL trigram index), as `alembic check` does.
filter_reflex_autogenerate()


def _runtime_dirs_to_ignore() -> list[Path]:
    """Top-level folders of the project where the app writes at run time.

    Reflex's dev server hot-reloads on changes under every visible top-level folder;
    SQLite's -wal/-shm files change on every connection, so a watched data folder
    would restart the backend every few seconds (and lose the events in flight).
    """
    settings = get_settings()
    written = [settings.data_dir]
    url = settings.resolved_database_url()
    if url.startswith("sqlite:///"):
        written.append(Path(url.removeprefix("sqlite:///")).parent)
    ignored = []
    for path in written:
        path = path.resolve()
        if path.is_relative_to(PROJECT_ROOT) and path != PROJECT_ROOT:
            top = PROJECT_ROOT / path.relative_to(PROJECT_ROOT).parts[0]
            top.mkdir(parents=True, exist_ok=True)  # Reflex compares existing paths
            ignored.append(top)
    return ignored


_ignored = [str(p) for p in _runtime_dirs_to_ignore()]
if _ignored:
    _current = [p for p in os.environ.get("REFLEX_HOT_RELOAD_EXCLUDE_PATHS", "").split(":") if p]
    os.environ["REFLEX_HOT_RELOAD_EXCLUDE_PATHS"] = ":".join(dict.fromkeys(_current + _ignored))

config = rx.Config(
    app_name="simple_erp",
    db_url=get_settings().resolved_database_url(),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
