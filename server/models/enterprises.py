"""The enterprise directory (检查对象名录库)."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.domain.enterprises import CREDIT_RATINGS, INDUSTRIES, RISK_GRADES
from server.extensions import Model
from server.models.types import AgencyScoped, IdMixin, TimestampMixin


class Enterprise(IdMixin, TimestampMixin, AgencyScoped, Model):
    __tablename__ = "enterprises"
    __entity__ = "enterprise"
    __table_args__ = (
        sa.UniqueConstraint("agency_id", "uscc"),
        sa.Index("ix_enterprises_agency_industry", "agency_id", "industry"),
    )

    uscc: so.Mapped[str] = so.mapped_column(sa.String(18))
    name: so.Mapped[str] = so.mapped_column(sa.String(200))
    address: so.Mapped[str] = so.mapped_column(sa.String(300), default="")
    region: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    # Copied onto its hazards (``Hazard.industry``); the old value is loaded before a change so
    # that the copies and the hazard counts follow it.
    industry: so.Mapped[str] = so.mapped_column(
        sa.Enum(*INDUSTRIES, name="industry", native_enum=False), active_history=True
    )
    legal_representative: so.Mapped[str] = so.mapped_column(sa.String(100), default="")
    contact_phone: so.Mapped[str] = so.mapped_column(sa.String(40), default="")
    latitude: so.Mapped[float | None] = so.mapped_column(sa.Float)
    longitude: so.Mapped[float | None] = so.mapped_column(sa.Float)
    # 重点企业: covered in full every year, never drawn at random.
    is_key: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    risk_grade: so.Mapped[str | None] = so.mapped_column(
        sa.Enum(*RISK_GRADES, name="risk_grade", native_enum=False)
    )
    credit_rating: so.Mapped[str | None] = so.mapped_column(
        sa.Enum(*CREDIT_RATINGS, name="credit_rating", native_enum=False)
    )
    # 严重失信主体名单
    seriously_dishonest: so.Mapped[bool] = so.mapped_column(sa.Boolean, default=False)
    # Bumped by rotation; gate codes of older versions are refused.
    entry_code_version: so.Mapped[int] = so.mapped_column(sa.Integer, default=1)
    version: so.Mapped[int] = so.mapped_column(sa.Integer, default=1)
