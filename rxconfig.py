"""Reflex settings only; the database URL comes from simple_erp.config."""

import reflex as rx
from reflex_base.constants.installer import PackageJson

from simple_erp.config import get_settings

# The dev frontend listens on loopback only (Reflex's default is every interface).
PackageJson.Commands.DEV = "react-router dev --host 127.0.0.1"

config = rx.Config(
    app_name="simple_erp",
    db_url=get_settings().resolved_database_url(),
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="indigo", radius="medium"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
)
