"""Custom HTTP routes mounted beside Reflex (api_transformer): health, later webhooks."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from sqlalchemy import text

from simple_erp.db import get_engine


async def health(_request: Request) -> JSONResponse:
    """Liveness and database reachability, for the load balancer."""
    try:
        with get_engine().connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception:  # noqa: BLE001 - any failure means "not healthy"
        return JSONResponse({"status": "error", "database": "unreachable"}, status_code=503)
    return JSONResponse({"status": "ok"})


api = Starlette(routes=[Route("/api/health", health, methods=["GET"])])
