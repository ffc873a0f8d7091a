"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from simple_erp.models.company import Company, CompanyChange, Product, VatRate
from simple_erp.models.contact import Contact
from simple_erp.models.document import (
    Document,
    DocumentContact,
    DocumentFile,
    DocumentLine,
    NumberCounter,
    NumberingPattern,
)
from simple_erp.models.email import EmailAttachment, EmailEvent, EmailMessage, EmailRubrique, EmailSettings, EmailTemplate
from simple_erp.models.payment import (
    Account,
    ErpPreferences,
    MollieCustomer,
    Payment,
    PaymentEvent,
    PaymentMethod,
    PaymentType,
)
from simple_erp.models.user import SignInFailure, User, UserSession

__all__ = [
    "EmailAttachment", "EmailEvent", "EmailMessage", "EmailRubrique", "EmailSettings", "EmailTemplate",
    "Account", "ErpPreferences", "MollieCustomer", "Payment", "PaymentEvent", "PaymentMethod", "PaymentType",
    "Company", "CompanyChange", "Contact", "Document", "DocumentContact", "DocumentFile", "DocumentLine",
    "NumberCounter", "NumberingPattern", "Product", "SignInFailure", "User", "UserSession", "VatRate",
]
