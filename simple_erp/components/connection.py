"""The notice shown when the browser loses the server, in French.

Reflex's own overlay (reflex_components_core.core.banner: a toast « Cannot connect to
server… » and a pulsing icon titled « Connection Error ») is in English; this one
keeps its behaviour (shown after two failed attempts, dismissed on reconnection, not
shown again once closed) with French words. Installed by ``install(app)``.
"""

from __future__ import annotations

import reflex as rx
from reflex_base.components.component import Component
from reflex_base.components.memo import memo
from reflex_base.constants import Hooks
from reflex_base.vars import VarData
from reflex_base.vars.base import LiteralVar, Var
from reflex_base.vars.function import FunctionStringVar
from reflex_base.vars.sequence import LiteralArrayVar
from reflex_components_core.base.fragment import Fragment
from reflex_components_core.core.banner import (
    WebsocketTargetURL,
    WifiOffPulse,
    connect_errors,
    has_connection_errors,
    has_hydration_payload_error,
    has_too_many_connection_errors,
)
from reflex_components_sonner.toast import ToastProps, toast_ref

LOST = "Connexion au serveur perdue."
RETRYING = "Nouvelle tentative en cours… Vérifiez que le serveur est joignable à l'adresse {url}."
TOO_LARGE = "Cette page contient trop de données pour être affichée. Rechargez-la ; si cela persiste, contactez le support."


class FrenchConnectionToaster(Fragment):
    """Reflex's ConnectionToaster, with French messages (not a subclass: Reflex adds the
    hooks of every class in the hierarchy, which would declare them twice)."""

    def add_hooks(self) -> list[str | Var]:
        toast_id = "websocket-error"
        target_url = WebsocketTargetURL.create()
        props = ToastProps(
            description=LiteralVar.create(RETRYING.format(url=target_url)),
            close_button=True,
            duration=120000,
            id=toast_id,
        )  # pyright: ignore [reportCallIssue]
        lost = Var.create(LOST)
        too_large = Var.create(TOO_LARGE)
        effect = f"""
() => {{
    if ({has_hydration_payload_error!s}) {{
        toast?.error({too_large!s}, {{id: "hydration-payload-error", closeButton: true, duration: Infinity}});
    }} else if ({has_too_many_connection_errors!s}) {{
        if (!userDismissed) {{
            toast?.error({lost!s}, {{...toast_props, onDismiss: () => setUserDismissed(true)}},);
        }}
    }} else {{
        toast?.dismiss("{toast_id}");
        setUserDismissed(false);
    }}
}}
"""
        target_imports = dict(var_data.imports) if (var_data := target_url._get_all_var_data()) is not None else {}
        return [
            Hooks.CONNECT_ERRORS,
            Var(f"const toast = {toast_ref};"),
            f"const toast_props = {LiteralVar.create(props)!s};",
            "const [userDismissed, setUserDismissed] = useState(false);",
            FunctionStringVar(
                "useEffect",
                _var_data=VarData(imports={"react": ("useEffect", "useState"), **target_imports}),
            ).call(Var(_js_expr=effect), LiteralArrayVar.create([connect_errors])),
        ]


def _connection_overlay() -> Component:
    return Fragment.create(
        rx.el.div(
            rx.cond(has_connection_errors, WifiOffPulse.create()),
            title=LOST, position="fixed", width="100vw", height="0",
        ),
        FrenchConnectionToaster.create(),
    )


def french_overlay() -> Component:
    return Fragment.create(memo(_connection_overlay)())


def install(app: rx.App) -> None:
    """Replace Reflex's English connection overlay by the French one."""
    app.app_wraps[(5, "Overlay")] = lambda stateful: french_overlay() if stateful else None
