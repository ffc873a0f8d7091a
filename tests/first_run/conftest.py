"""Fixtures of the first-run stage: the fresh clone running `make run`, and Chromium."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.browser_helpers import CHROMIUM_ARGS
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
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, request) -> Page:
    context = browser.new_context(base_url=FRONTEND, locale="fr-FR", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    expect.set_options(timeout=20_000)
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        out = ROOT / "test-artifacts"
        out.mkdir(exist_ok=True)
        page.screenshot(path=str(out / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
