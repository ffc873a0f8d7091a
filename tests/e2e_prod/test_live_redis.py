"""Live status with Redis and two backend workers (production mode)."""

import pytest

from tests.e2e.test_payments import test_payment_status_updates_live_in_another_browser as _live_test

pytestmark = pytest.mark.e2e


def test_payment_status_updates_live_across_workers(browser, signed_in, base_url):
    _live_test(browser, signed_in, base_url)


def test_the_production_run_uses_postgresql_and_redis(prod_app):
    import os

    import httpx

    assert os.environ["DATABASE_URL"].startswith("postgresql")
    assert httpx.get(f"{prod_app}/api/health", timeout=5).json() == {"status": "ok"}
