"""merge the day's second two branches: payment.company_id and the payment totals
(b14f1c0d0002, issue 14 and 15) and document_search (f15b3c7d0002, issue 15). Neither
rebuilds a table on upgrade, so no SQLite trigger is lost (tests/services/
test_schema_check.py and documents/test_search_sync.py check them).

Revision ID: d04a1b2c0003
Revises: b14f1c0d0002, f15b3c7d0002
Create Date: 2026-12-04
"""
from typing import Sequence, Union

revision: str = "d04a1b2c0003"
down_revision: Union[str, Sequence[str], None] = ("b14f1c0d0002", "f15b3c7d0002")
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
