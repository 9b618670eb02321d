"""Evidence attachments: stored content, which agencies may read it, uploads in progress.

Content is addressed by its sha256 and kept once on disk however many agencies upload it
(``Attachment`` is deliberately not agency-scoped). Reading is fenced by
``AttachmentGrant``: an agency may see an attachment only after one of its own users
uploaded the complete content and the server verified the hash. Identical bytes from a
second agency are therefore streamed and checked again, never granted from the hash alone:
the hash names the content, it does not prove the caller has it. Resumable uploads are
per agency (``AttachmentUpload``), so one agency never sees another's progress.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
import sqlalchemy.orm as so

from server.extensions import Model
from server.models.types import AgencyScoped, UTCDateTime, utcnow


class Attachment(Model):
    """Content stored completely and verified; one row per distinct sha256."""

    __tablename__ = "attachments"

    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), primary_key=True)
    size: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    # As the first uploader declared it; normalized, never trusted for inline display.
    content_type: so.Mapped[str] = so.mapped_column(sa.String(127))
    created_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    completed_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    # Provenance of the first upload only; who may read it is in attachment_grants.
    uploaded_by: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))
    agency_id: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("agencies.id"))


class AttachmentGrant(AgencyScoped, Model):
    """An agency that uploaded this content itself, and so may read it."""

    __tablename__ = "attachment_grants"
    __table_args__ = (sa.PrimaryKeyConstraint("agency_id", "sha256"),)

    sha256: so.Mapped[str] = so.mapped_column(
        sa.String(64), sa.ForeignKey("attachments.sha256"), index=True
    )
    granted_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    granted_by: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))


class AttachmentUpload(AgencyScoped, Model):
    """A resumable upload in progress; the row goes when the content is verified or refused."""

    __tablename__ = "attachment_uploads"
    __table_args__ = (sa.PrimaryKeyConstraint("agency_id", "sha256"),)

    sha256: so.Mapped[str] = so.mapped_column(sa.String(64))
    total_size: so.Mapped[int] = so.mapped_column(sa.BigInteger)
    # Bytes durably on disk; the partial file is cut back to this after a crash.
    received_bytes: so.Mapped[int] = so.mapped_column(sa.BigInteger, default=0)
    content_type: so.Mapped[str] = so.mapped_column(sa.String(127))
    started_by: so.Mapped[uuid.UUID] = so.mapped_column(sa.Uuid, sa.ForeignKey("users.id"))
    started_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
    updated_at: so.Mapped[datetime] = so.mapped_column(UTCDateTime, default=utcnow)
