"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from simple_erp.models.company import Company, CompanyChange, Product, VatRate
from simple_erp.models.contact import Contact, ContactFile
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
    PaymentTotal,
    PaymentType,
)
from simple_erp.models.remittance import PreNotice, Remittance, RemittanceLine
from simple_erp.models.received_invoice import ReceivedInvoice
from simple_erp.models.reminder import Reminder, ReminderStep
from simple_erp.models.user import SignInFailure, User, UserSession

__all__ = [
    "EmailAttachment", "EmailEvent", "EmailMessage", "EmailRubrique", "EmailSettings", "EmailTemplate",
    "Account", "ErpPreferences", "MollieCustomer", "Payment", "PaymentEvent", "PaymentMethod", "PaymentTotal",
    "PaymentType",
    "Company", "CompanyChange", "Contact", "ContactFile", "Document", "DocumentContact", "DocumentFile", "DocumentLine",
    "NumberCounter", "NumberingPattern", "Product", "SignInFailure", "User", "UserSession", "VatRate",
    "PreNotice", "Remittance", "RemittanceLine",
    "ReceivedInvoice",
    "Reminder", "ReminderStep",
]
