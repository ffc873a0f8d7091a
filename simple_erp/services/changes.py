"""The change feed: services say which records changed; the UI layer listens.

A service calls ``touch(session, "document:42", "documents")`` inside its
transaction; the topics are announced only once that transaction has committed
(never for a rollback), so a screen that reloads on the announcement reads the new
data. Listeners must be quick and must not raise: they only schedule work.
No Reflex here: simple_erp.state.live subscribes and pushes to open screens.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_KEY = "simple_erp_changed_topics"
_listeners: list[Callable[[frozenset[str]], None]] = []


def document_topics(doc_id: int) -> tuple[str, str]:
    return (f"document:{doc_id}", "documents")


def touch(session: Session, *topics: str) -> None:
    session.info.setdefault(_KEY, set()).update(topics)


def subscribe(listener: Callable[[frozenset[str]], None]) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def unsubscribe(listener: Callable[[frozenset[str]], None]) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def publish(topics: frozenset[str]) -> None:
    for listener in list(_listeners):
        try:
            listener(topics)
        except Exception:  # noqa: BLE001 - a broken listener must not break a commit
            log.exception("change listener failed for %s", sorted(topics))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    topics = session.info.pop(_KEY, None)
    if topics:
        publish(frozenset(topics))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, _previous_transaction) -> None:
    session.info.pop(_KEY, None)
