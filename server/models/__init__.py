"""Typed SQLAlchemy 2 models, one module per aggregate."""

from server.models.accounts import ROLES, Agency, ApiToken, Device, DeviceEvent, User
from server.models.attachments import Attachment, AttachmentGrant, AttachmentUpload
from server.models.calendar import CalendarDay, CalendarYear
from server.models.cases import Complaint, Exemption, LegalReview, PenaltyCase, PenaltyDecision
from server.models.draws import Draw, DrawPlan, DrawSeed, Recusal, Task
from server.models.enterprises import Enterprise
from server.models.hazard_counts import HazardCount, HazardFinderCount, HazardUnitCount
from server.models.hazards import HazardEscalation
from server.models.parties import (
    ComplaintMessage,
    EnterpriseAccount,
    Supervisor,
    VisitComplaint,
    VisitEvaluation,
)
from server.models.plans import AnnualPlan, AnnualPlanItem
from server.models.records import (
    Document,
    DocumentCounter,
    Hazard,
    Inspection,
    RecordMember,
    Rectification,
    Scan,
)
from server.models.sync import AuditEntry, Change, SyncClock, SyncOp
from server.models.throttle import LoginThrottle
from server.models.types import AgencyScoped

__all__ = [
    "ROLES",
    "Agency",
    "AgencyScoped",
    "AnnualPlan",
    "AnnualPlanItem",
    "ApiToken",
    "Attachment",
    "AttachmentGrant",
    "AttachmentUpload",
    "AuditEntry",
    "CalendarDay",
    "CalendarYear",
    "Change",
    "Complaint",
    "ComplaintMessage",
    "Device",
    "DeviceEvent",
    "Document",
    "DocumentCounter",
    "Draw",
    "DrawPlan",
    "DrawSeed",
    "Enterprise",
    "EnterpriseAccount",
    "Exemption",
    "Hazard",
    "HazardCount",
    "HazardEscalation",
    "LoginThrottle",
    "HazardFinderCount",
    "HazardUnitCount",
    "Inspection",
    "LegalReview",
    "PenaltyCase",
    "PenaltyDecision",
    "RecordMember",
    "Recusal",
    "Rectification",
    "Scan",
    "Supervisor",
    "SyncClock",
    "SyncOp",
    "Task",
    "User",
    "VisitComplaint",
    "VisitEvaluation",
]
