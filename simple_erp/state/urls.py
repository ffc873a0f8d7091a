"""Where customers and Mollie reach this app: the public payment pages and the API.

Both are served by the backend (in production one port serves the pages too), so by
default both are the backend's address; PUBLIC_BASE_URL / PUBLIC_API_URL override.
"""

from __future__ import annotations

from reflex.config import get_config

from simple_erp.config import get_settings
from simple_erp.services.mollie.payments import AppUrls


def app_urls() -> AppUrls:
    settings, config = get_settings(), get_config()
    api = (settings.public_api_url or config.api_url or "http://localhost:8000").rstrip("/")
    public = (settings.public_base_url or api).rstrip("/")
    return AppUrls(public_base=public, api_base=api)
