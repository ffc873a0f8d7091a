"""SQLModel tables. Importing this package registers every table on SQLModel.metadata."""

from simple_erp.models.contact import Contact
from simple_erp.models.user import User, UserSession

__all__ = ["Contact", "User", "UserSession"]
