"""The change feed announces topics only after a commit, never after a rollback."""

from sqlalchemy import create_engine, text
from sqlmodel import Session

from simple_erp.services import changes


def test_topics_are_announced_once_committed_and_dropped_on_rollback():
    seen: list[frozenset[str]] = []
    changes.subscribe(seen.append)
    engine = create_engine("sqlite://")
    try:
        with Session(engine) as session:
            session.exec(text("SELECT 1"))
            changes.touch(session, "document:1", "documents")
            assert seen == []  # nothing before the commit
            session.commit()
        assert seen == [frozenset({"document:1", "documents"})]
        with Session(engine) as session:
            session.exec(text("SELECT 1"))
            changes.touch(session, "document:2")
            session.rollback()
            session.commit()
        assert seen == [frozenset({"document:1", "documents"})]
    finally:
        changes.unsubscribe(seen.append)


def test_a_failing_listener_does_not_stop_the_others():
    seen: list[frozenset[str]] = []

    def broken(_topics):
        raise RuntimeError("boom")

    changes.subscribe(broken)
    changes.subscribe(seen.append)
    try:
        changes.publish(frozenset({"payments"}))
        assert seen == [frozenset({"payments"})]
    finally:
        changes.unsubscribe(broken)
        changes.unsubscribe(seen.append)
