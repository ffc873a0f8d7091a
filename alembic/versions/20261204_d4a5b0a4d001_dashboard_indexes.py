"""dashboard indexes

Revision ID: d4a5b0a4d001
Revises: 5d1e8a3c7f42
Create Date: 2026-12-04 07:00:00

The « Tableau de bord » (services.dashboard) reads aggregates only; these indexes keep
them fast with 1 000 000 documents (bench/dashboard.py):

* ix_document_open_invoices: partial, the finalised factures not fully paid by their
  payments, by (company, due date) with their amounts: receivables by age and the oldest
  late invoices walk the open invoices only;
* ix_document_avoir_source: partial, finalised avoirs by the invoice they correct;
* ix_document_company_kind_status_issue: invoiced per month from the index alone;
* ix_payment_received_doc: payments received per month (and the payment delay) from the
  index alone.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = "d4a5b0a4d001"
down_revision: Union[str, None] = "5d1e8a3c7f42"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

OPEN_INVOICE = "kind = 'facture' AND status = 'finalise' AND amount_received < total_ttc"
FINAL_AVOIR = "kind = 'avoir' AND status = 'finalise'"


def upgrade() -> None:
    op.create_index("ix_document_open_invoices", "document",
                    ["company_id", "due_date", "id", "total_ttc", "amount_received"], unique=False,
                    postgresql_where=sa.text(OPEN_INVOICE), sqlite_where=sa.text(OPEN_INVOICE))
    op.create_index("ix_document_avoir_source", "document", ["source_id", "total_ttc"], unique=False,
                    postgresql_where=sa.text(FINAL_AVOIR), sqlite_where=sa.text(FINAL_AVOIR))
    op.create_index("ix_document_company_kind_status_issue", "document",
                    ["company_id", "kind", "status", "issue_date", "total_ttc"], unique=False)
    op.create_index("ix_payment_received_doc", "payment",
                    ["received_on", "status", "document_id", "amount", "amount_refunded"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_payment_received_doc", table_name="payment")
    op.drop_index("ix_document_company_kind_status_issue", table_name="document")
    op.drop_index("ix_document_avoir_source", table_name="document")
    op.drop_index("ix_document_open_invoices", table_name="document")
