"""The upload guard in the real Reflex app (Reflex's own /_upload endpoint, its context
middleware, its state managers): a signed-in tab's logo reaches ``AdminErpState.upload_logo``
(its answer streams the signed-in user's name: the handler ran, with the session), a signed-out tab
and an unknown token are refused 403, a 3 MB body 413. Run in a subprocess
(``reflex_upload_run.py``) because the app is assembled for the run, once per in-process
state manager (disk is ``make run``'s default, memory the tests'); Redis mode is covered
by the same code path (``get_state`` then the database), in the production e2e suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("mode", ["memory", "disk"])
def test_reflexs_upload_endpoint_is_guarded(mode, tmp_path):
    env = os.environ | {"REFLEX_STATE_MANAGER_MODE": mode, "REFLEX_STATES_WORKDIR": str(tmp_path / "states"),
                        "SIMPLE_ERP_DATA_DIR": tempfile.mkdtemp(dir=tmp_path), "DATABASE_URL": "",
                        "REFLEX_REDIS_URL": "", "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, str(Path(__file__).with_name("reflex_upload_run.py"))], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr[-3000:]
    results = json.loads(run.stdout.strip().splitlines()[-1])
    assert results["manager"].lower().endswith(mode.lower())
    assert results["tab-signed-in"] == [200, True, "DENY"]
    assert results["tab-signed-out"] == [403, False, "DENY"]
    assert results["tab-random"] == [403, False, "DENY"]
    assert results["too-big"] == [413, "Requête trop volumineuse."]
