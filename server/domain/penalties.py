"""Penalty cases (立案) to decisions: what is major, legal review, exemption, publication deadlines.

Case states::

    open ──decide──▶ decided ──revoke──▶ (decision revoked; the case stays decided)
      ├──exempt───▶ exempted      不予处罚 under the minor/first-violation list (免罚清单)
      └──dismiss──▶ dismissed     撤案

A case may also be transferred to the judiciary (移送司法) while open; that is a fact recorded
on the case, not a state, because the administrative case can still end in a decision.

Decision publication states (computed, never stored as text that could drift)::

    pending ──publish──▶ published ──revoke──▶ withdrawn
       └───────────────revoke────────────────▶ revoked   (never published, nothing to withdraw)

A decision is *due* while unpublished up to its deadline (7 working days after the decision,
stored when it is issued) and *late* after it. Lateness is judged by the server's own record of
when the decision was published (``published_at``), never by the publication date a user
types in, and once a decision is late (flagged by the daily check, or published after its
deadline) it stays late.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from server.domain.errors import Conflict, ValidationFailed
from server.domain.workdays import DEFAULT_CALENDAR, WorkCalendar

OPEN = "open"
DECIDED = "decided"
EXEMPTED = "exempted"
DISMISSED = "dismissed"
CASE_STATUSES = (OPEN, DECIDED, EXEMPTED, DISMISSED)
CASE_STATUS_LABELS = {
    OPEN: "办理中",
    DECIDED: "已作出处罚决定",
    EXEMPTED: "不予处罚",
    DISMISSED: "已撤案",
}

SOURCES = ("inspection", "complaint", "accident", "referral", "other")
SOURCE_LABELS = {
    "inspection": "执法检查",
    "complaint": "投诉举报",
    "accident": "事故调查",
    "referral": "移送/交办",
    "other": "其他",
}

# Penalties other than a fine (《安全生产法》/《行政处罚法》 第九条).
WARNING = "warning"
CONFISCATION = "confiscation"
STOP_PRODUCTION = "stop_production"
SUSPEND_LICENSE = "suspend_license"
REVOKE_LICENSE = "revoke_license"
CLOSE_DOWN = "close_down"
OTHER_PENALTIES = (
    WARNING,
    CONFISCATION,
    STOP_PRODUCTION,
    SUSPEND_LICENSE,
    REVOKE_LICENSE,
    CLOSE_DOWN,
)
OTHER_PENALTY_TEXT = {
    WARNING: "警告",
    CONFISCATION: "没收违法所得",
    STOP_PRODUCTION: "责令停产停业整顿",
    SUSPEND_LICENSE: "暂扣许可证件",
    REVOKE_LICENSE: "吊销许可证件",
    CLOSE_DOWN: "责令关闭",
}
# These always go through legal review, whatever the amount: they can end a business.
_MAJOR_BY_NATURE = frozenset({STOP_PRODUCTION, SUSPEND_LICENSE, REVOKE_LICENSE, CLOSE_DOWN})

APPROVED = "approved"
RETURNED = "returned"
REVIEW_OPINIONS = (APPROVED, RETURNED)

PENDING = "pending"
PUBLISHED = "published"
WITHDRAWN = "withdrawn"
REVOKED = "revoked"
PUBLICATION_STATES = (PENDING, PUBLISHED, WITHDRAWN, REVOKED)

PUBLISH_WITHIN_WORKING_DAYS = 7
WITHDRAW_WITHIN_WORKING_DAYS = 3


class LegalReviewRequired(Conflict):
    code = "legal_review_required"


class CaseNotOpen(Conflict):
    code = "case_not_open"


class PublicationConflict(Conflict):
    code = "publication_conflict"


@dataclass(frozen=True)
class PenaltyPolicy:
    """Per agency (``settings["penalties"]``): when a decision counts as major (重大执法决定).

    The defaults follow common 重大执法决定法制审核目录清单 thresholds: fines of 50,000 yuan on
    an entity or 10,000 yuan on a person, any penalty that can end a business, and every
    accident penalty. ``review_all`` makes every decision go through review, as seed 002's
    bureau does for ordinary cases too.
    """

    major_entity_fine_fen: int = 5_000_000
    major_individual_fine_fen: int = 1_000_000
    accident_is_major: bool = True
    review_all: bool = False

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any] | None) -> PenaltyPolicy:
        raw = dict((settings or {}).get("penalties") or {})
        known = {k: raw[k] for k in cls.__dataclass_fields__ if k in raw}
        return cls(**known)


@dataclass(frozen=True)
class Individual:
    name: str
    fine_fen: int
    title: str = ""


@dataclass(frozen=True)
class DecisionTerms:
    """What a decision imposes: the fine on the entity, on named individuals, other penalties.

    ``confiscated_fen`` is money confiscated from the entity (没收违法所得/非法财物折款): with
    the fines it makes the 罚没金额 of the statistics.
    """

    entity_fine_fen: int
    individuals: tuple[Individual, ...] = ()
    other_penalties: tuple[str, ...] = ()
    accident: bool = False
    confiscated_fen: int = 0

    @property
    def individual_fine_fen(self) -> int:
        return sum(i.fine_fen for i in self.individuals)

    @property
    def total_fine_fen(self) -> int:
        return self.entity_fine_fen + self.individual_fine_fen

    @property
    def forfeiture_fen(self) -> int:
        """罚没金额: every fine plus the money confiscated."""
        return self.total_fine_fen + self.confiscated_fen

    @property
    def on_entity(self) -> bool:
        return self.entity_fine_fen > 0 or self.confiscated_fen > 0 or bool(self.other_penalties)

    @property
    def on_individuals(self) -> bool:
        return bool(self.individuals)


def check_terms(terms: DecisionTerms) -> None:
    """A decision imposes something, on someone, in whole fen."""
    fields: dict[str, str] = {}
    amounts = [
        ("entity_fine_fen", terms.entity_fine_fen),
        ("confiscated_fen", terms.confiscated_fen),
    ] + [(f"individuals.{n}.fine_fen", i.fine_fen) for n, i in enumerate(terms.individuals)]
    for name, value in amounts:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            fields[name] = "integer fen, not negative"
    for n, person in enumerate(terms.individuals):
        if not person.name.strip():
            fields[f"individuals.{n}.name"] = "name the person penalized"
    unknown = [p for p in terms.other_penalties if p not in OTHER_PENALTIES]
    if unknown:
        fields["other_penalties"] = f"unknown: {', '.join(unknown)}"
    if (
        "confiscated_fen" not in fields
        and terms.confiscated_fen > 0
        and CONFISCATION not in terms.other_penalties
    ):
        fields["confiscated_fen"] = f"money confiscated needs {CONFISCATION!r} among the penalties"
    if fields:
        raise ValidationFailed("the decision's terms are not valid", fields=fields)
    if not terms.on_entity and not any(i.fine_fen > 0 for i in terms.individuals):
        raise ValidationFailed(
            "a penalty decision imposes a fine or another penalty; use an exemption otherwise",
            code="nothing_imposed",
            fields={"entity_fine_fen": "a fine, other penalties or individuals' fines"},
        )


def is_major(terms: DecisionTerms, policy: PenaltyPolicy) -> bool:
    """Whether the decision is a 重大执法决定 that needs 法制审核 before it is issued."""
    if policy.review_all:
        return True
    if terms.accident and policy.accident_is_major:
        return True
    if _MAJOR_BY_NATURE & set(terms.other_penalties):
        return True
    # 较大数额罚款或者没收较大数额违法所得: the confiscated money weighs like a fine.
    if terms.entity_fine_fen + terms.confiscated_fen >= policy.major_entity_fine_fen:
        return True
    return any(i.fine_fen >= policy.major_individual_fine_fen for i in terms.individuals)


def require_open(status: str) -> None:
    if status != OPEN:
        raise CaseNotOpen(
            f"the case is {status}; only an open case can be decided, exempted or dismissed",
            details={"status": status},
        )


def require_review(terms: DecisionTerms, policy: PenaltyPolicy, reviews: Iterable[str]) -> bool:
    """Refuse a major decision unless its latest legal review approved it; returns whether it
    is major.

    ``reviews`` are the opinions recorded on or before the decision date, oldest first. An
    approval followed by a return (the reviewer sent the draft back after all) does not count:
    the review in force is the latest one.
    """
    major = is_major(terms, policy)
    opinions = list(reviews)
    latest = opinions[-1] if opinions else None
    if major and latest != APPROVED:
        raise LegalReviewRequired(
            "this is a major enforcement decision (重大执法决定): its latest legal review "
            "(法制审核) must approve it before it is issued",
            details={"total_fine_fen": terms.total_fine_fen, "latest_review": latest},
        )
    return major


def check_exemption(list_item: str, amount_not_imposed_fen: int) -> None:
    """An exemption names the list item it relies on; the amount not imposed is whole fen."""
    fields: dict[str, str] = {}
    if not list_item.strip():
        fields["list_item"] = "the item of the minor/first-violation list (免罚清单) applied"
    if (
        isinstance(amount_not_imposed_fen, bool)
        or not isinstance(amount_not_imposed_fen, int)
        or amount_not_imposed_fen < 0
    ):
        fields["amount_not_imposed_fen"] = "integer fen, not negative"
    if fields:
        raise ValidationFailed("the exemption is not valid", fields=fields)


def publication_deadline(decided_on: date, calendar: WorkCalendar = DEFAULT_CALENDAR) -> date:
    """The last day to publish: 7 working days after the decision date."""
    return calendar.add_working_days(decided_on, PUBLISH_WITHIN_WORKING_DAYS)


def withdrawal_deadline(revoked_on: date, calendar: WorkCalendar = DEFAULT_CALENDAR) -> date:
    """The last day to take a revoked decision off the public pages: 3 working days."""
    return calendar.add_working_days(revoked_on, WITHDRAW_WITHIN_WORKING_DAYS)


@dataclass(frozen=True)
class Publication:
    """Where a decision stands on publication, as of ``today`` (the agency's local date)."""

    state: str
    deadline: date
    due: bool  # unpublished, not revoked, deadline not passed
    late: bool  # found unpublished past the deadline, or published after it
    days_left: int | None  # working days until the deadline while pending; negative when late
    # The deadline was counted on a plain Monday–Friday week for days the official calendar
    # does not know yet: it may move once that year's holidays are entered.
    deadline_estimated: bool = False


def published_late(recorded_on: date, deadline: date, late_flagged_on: date | None) -> bool:
    """Whether a publication recorded by the server on ``recorded_on`` was late.

    ``recorded_on`` is the agency-local date of the server's own record, not a date typed in:
    a decision cannot be made to look on time by back-dating its publication, and one the
    daily check already found late stays late.
    """
    return late_flagged_on is not None or recorded_on > deadline


def publication(
    *,
    decided_on: date,
    deadline: date,
    published: bool,
    published_late: bool | None,
    revoked_on: date | None,
    late_flagged_on: date | None,
    today: date,
    calendar: WorkCalendar = DEFAULT_CALENDAR,
) -> Publication:
    """The publication state from the stored facts; ``deadline`` is the one stored at issue."""
    estimated = not calendar.span_is_authoritative(decided_on, deadline)
    flagged = late_flagged_on is not None
    if revoked_on is not None:
        state = WITHDRAWN if published else REVOKED
        return Publication(state, deadline, False, flagged or bool(published_late), None, estimated)
    if published:
        return Publication(
            PUBLISHED, deadline, False, flagged or bool(published_late), None, estimated
        )
    late = flagged or today > deadline
    days_left = calendar.working_days_between(today, deadline)
    return Publication(PENDING, deadline, not late, late, days_left, estimated)


def check_publish(published_on: date, decided_on: date, revoked: bool, already: bool) -> None:
    if revoked:
        raise PublicationConflict("a revoked decision is not published", details={"state": REVOKED})
    if already:
        raise PublicationConflict("the decision is already published", details={"state": PUBLISHED})
    if published_on < decided_on:
        raise ValidationFailed(
            "a decision cannot be published before it was made",
            fields={"published_on": f"on or after {decided_on}"},
        )


def check_revoke(revoked_on: date, decided_on: date, reason: str, revoked: bool) -> None:
    if revoked:
        raise PublicationConflict("the decision is already revoked", details={"state": REVOKED})
    fields: dict[str, str] = {}
    if not reason.strip():
        fields["reason"] = "say why the decision is revoked"
    if revoked_on < decided_on:
        fields["revoked_on"] = f"on or after {decided_on}"
    if fields:
        raise ValidationFailed("the revocation is not valid", fields=fields)
