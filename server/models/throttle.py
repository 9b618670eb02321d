"""Failed sign-in counters, shared by every host through the database."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.extensions import Model
from server.models.types import UTCDateTime


class LoginThrottle(Model):
    """One user name's or address's failed sign-ins in the current window (not agency
    scoped: user names are unique across the deployment, addresses belong to nobody)."""

    __tablename__ = "login_throttles"

    scope: so.Mapped[str] = so.mapped_column(sa.String(8), primary_key=True)
    key: so.Mapped[str] = so.mapped_column(sa.String(200), primary_key=True)
    window_started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime)
    failures: so.Mapped[int] = so.mapped_column(sa.Integer)
