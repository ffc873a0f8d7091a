"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from simple_erp.models.company import Company, Product, VatRate
from simple_erp.models.contact import Contact
from simple_erp.models.document import (
    Document,
    DocumentContact,
    DocumentFile,
    DocumentLine,
    NumberCounter,
    NumberingPattern,
)
from simple_erp.models.user import User, UserSession

__all__ = [
    "Company", "Contact", "Document", "DocumentContact", "DocumentFile", "DocumentLine",
    "NumberCounter", "NumberingPattern", "Product", "User", "UserSession", "VatRate",
]
