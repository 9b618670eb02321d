"""Typed SQLAlchemy 2 models, one module per aggregate."""

from server.models.accounts import ROLES, Agency, ApiToken, Device, User
from server.models.enterprises import Enterprise
from server.models.types import AgencyScoped

__all__ = ["ROLES", "Agency", "AgencyScoped", "ApiToken", "Device", "Enterprise", "User"]
