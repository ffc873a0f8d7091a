"""2026 e-invoicing reform mentions: the company's default « catégorie de l'opération »,
its option for paying VAT on debits and its répertoire des métiers (RM); the product kind
(bien / service); per document, the category chosen and the delivery address.

Plain ADD COLUMNs (with server defaults, so existing rows are filled): no table rebuild on
SQLite, which keeps the document table's immutability triggers.

Revision ID: e12a3f0c0001
Revises: 30a71b11cf1a
Create Date: 2026-12-04
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import sqlmodel


revision: str = 'e12a3f0c0001'
down_revision: Union[str, None] = '30a71b11cf1a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_COLUMNS = {
    "company": (("rm_city", 120, ""), ("operation_category", 20, "mixte")),
    "product": (("kind", 20, ""),),
    "document": (("operation_category", 20, ""), ("delivery_line1", 200, ""), ("delivery_line2", 200, ""),
                 ("delivery_postal_code", 20, ""), ("delivery_city", 120, ""), ("delivery_country", 2, "")),
}


def upgrade() -> None:
    for table, columns in _COLUMNS.items():
        for name, length, default in columns:
            op.add_column(table, sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False,
                                           server_default=default))
    op.add_column("company", sa.Column("vat_on_debits", sa.Boolean(), nullable=False, server_default="0"))


def downgrade() -> None:
    # Plain DROP COLUMNs (SQLite 3.35+): a batch rebuild of ``document`` would break on the
    # immutability triggers that refer to it (migration e12b9d4a0002).
    op.drop_column("company", "vat_on_debits")
    for table, columns in _COLUMNS.items():
        for name, _, _ in reversed(columns):
            op.drop_column(table, name)
