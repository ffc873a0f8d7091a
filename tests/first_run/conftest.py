"""Fixtures of the first-run stage: the fresh clone running `make run`, and Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser_helpers import chromium, french_page
from tests.first_run.harness import FRONTEND, ROOT, RunningApp


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    commit = os.environ.get("FIRST_RUN_COMMIT") or subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()
    base = tmp_path_factory.mktemp("first_run")
    clone = base / "simple-erp"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "--quiet", "--detach", commit], cwd=clone, check=True)
    running = RunningApp(clone, base / "make-run.log")
    try:
        running.start()
        yield running
    finally:
        running.stop()
        artifacts = ROOT / "test-artifacts"
        artifacts.mkdir(exist_ok=True)
        shutil.copy(running.log_path, artifacts / "first-run-make-run.log")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def browser() -> Browser:
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser: Browser, request) -> Page:
    expect.set_options(timeout=20_000)
    with french_page(browser, FRONTEND, request, width=1400) as page:
        yield page
