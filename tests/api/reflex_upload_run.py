"""Run by test_upload_reflex_app.py in a subprocess (the real Reflex app is changed for
the run): the real ``simple_erp.simple_erp.app`` assembled as ``App.__call__`` does, minus
the frontend compile, on a fresh SQLite database, the state manager from
REFLEX_STATE_MANAGER_MODE. Prints one JSON line: what /_upload answered for each case."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import reflex.app as reflex_app
from reflex.istate.manager.token import BaseStateToken
from reflex.utils import prerequisites
from reflex_components_core.core.upload import Upload
from starlette.testclient import TestClient

_backend_dir = Path(tempfile.mkdtemp())
prerequisites.get_backend_dir = lambda: _backend_dir  # the upload marker, not in .web
reflex_app.remove_stale_external_asset_symlinks = lambda: None  # nothing under assets/
reflex_app.get_backend_compile_trigger = lambda: None

from simple_erp.api.app import build_api  # noqa: E402
from simple_erp.db import session_scope  # noqa: E402
from simple_erp.pages.admin_erp import AdminErpState  # noqa: E402
from simple_erp.services import auth  # noqa: E402
from simple_erp.simple_erp import app  # noqa: E402
from simple_erp.state.auth import AuthState  # noqa: E402

Upload.is_used = True
app._add_optional_endpoints()  # what the compile does when a page uses rx.upload
app.api_transformer = build_api()
app._compile = lambda **_kwargs: None
asgi = app()

with session_scope() as session:
    user = auth.create_first_admin(session, "alice@atelier.fr", "Alice Martin", "Tr3s-l0ngue-phrase-de-passe!")
    session_token = auth.open_session(session, user)

HANDLER = AdminErpState.get_full_name() + ".upload_logo"
LOGO = {"files": ("logo.png", b"\x89PNG" + b"x" * 1000, "image/png")}
results: dict[str, list] = {"manager": type(app.state_manager).__name__}

with TestClient(asgi) as client:
    async def open_tabs() -> None:
        async with app.modify_state(BaseStateToken(ident="tab-signed-in", cls=AuthState)) as root:
            root.is_hydrated = True  # a tab whose page loaded
            (await root.get_state(AuthState)).session_token = session_token  # as hydrated from its cookie
        async with app.modify_state(BaseStateToken(ident="tab-signed-out", cls=AuthState)):
            pass

    client.portal.call(open_tabs)
    for tab in ("tab-signed-in", "tab-signed-out", "tab-random"):
        answer = client.post("/_upload", headers={"Reflex-Client-Token": tab, "Reflex-Event-Handler": HANDLER},
                             files=LOGO)
        results[tab] = [answer.status_code, "Alice Martin" in answer.text,
                        answer.headers.get("x-frame-options")]
    answer = client.post("/_upload", headers={"Reflex-Client-Token": "tab-signed-in", "Reflex-Event-Handler": HANDLER},
                         files={"files": ("big.png", b"x" * (3 * 1024 * 1024), "image/png")})
    results["too-big"] = [answer.status_code, answer.text]
print(json.dumps(results))
