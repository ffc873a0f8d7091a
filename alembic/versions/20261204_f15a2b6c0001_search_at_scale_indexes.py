"""search at scale: covering name index, a client's documents, Encaissements' order

Revision ID: f15a2b6c0001
Revises: 30a71b11cf1a
Create Date: 2026-12-04 10:05:00

Measured with bench/search_scale.py (1 000 000 contacts and documents, PostgreSQL):
* ix_contact_sort_name_id includes search_text on PostgreSQL: a search checks the first
  contacts in name order from the index alone (services.contacts.name_walk), without a
  random table read per contact (SQLite has no INCLUDE: unchanged there);
* ix_document_contact_contact_document (contact_id, document_id): a client's documents
  from the index alone (services.documents.lists);
* ix_payment_collections (received_on, requested_at, id): the Encaissements order, read
  in two parts (the received payments, then those not received: received_on NULL), so a
  page no longer sorts every payment (3 s at 585 000 payments);
  ix_payment_status_collections the same after the status, for the status filter (the
  pending payments come last: 860 ms walking past every received one).
"""
from typing import Sequence, Union

from alembic import op

revision: str = "f15a2b6c0001"
down_revision: Union[str, None] = "30a71b11cf1a"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_contact_sort_name_id", table_name="contact")
        op.create_index("ix_contact_sort_name_id", "contact", ["sort_name", "id"], postgresql_include=["search_text"])
    op.create_index("ix_document_contact_contact_document", "document_contact", ["contact_id", "document_id"])
    op.create_index("ix_payment_collections", "payment", ["received_on", "requested_at", "id"])
    op.create_index("ix_payment_status_collections", "payment", ["status", "received_on", "requested_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_payment_status_collections", table_name="payment")
    op.drop_index("ix_payment_collections", table_name="payment")
    op.drop_index("ix_document_contact_contact_document", table_name="document_contact")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_contact_sort_name_id", table_name="contact")
        op.create_index("ix_contact_sort_name_id", "contact", ["sort_name", "id"])
