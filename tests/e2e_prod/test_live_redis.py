"""Live status with Redis and two backend workers (production mode)."""

import pytest

from tests.e2e.test_foundation import (
    test_a_company_logo_is_uploaded_and_a_file_that_is_no_image_is_refused as _logo_test,
)
from tests.e2e.test_payments import test_payment_status_updates_live_in_another_browser as _live_test

pytestmark = pytest.mark.e2e


def test_payment_status_updates_live_across_workers(browser, signed_in, base_url):
    _live_test(browser, signed_in, base_url)


def test_the_production_run_uses_postgresql_and_redis(prod_app):
    import os

    import httpx

    assert os.environ["DATABASE_URL"].startswith("postgresql")
    assert httpx.get(f"{prod_app}/api/health", timeout=5).json() == {"status": "ok"}


def test_a_logo_upload_passes_the_upload_guard_with_redis(signed_in):
    """The upload guard reads the tab's session from Redis (the state manager of several
    workers) before Reflex reads the body: a signed-in tab's logo goes through."""
    _logo_test(signed_in)
