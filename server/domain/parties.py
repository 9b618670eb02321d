"""The enterprise's and the supervisor's rules: sign-in limits, ratings, complaints' deadlines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from server.domain.errors import ValidationFailed

# Failed sign-ins (or activations) in a row before an account is locked, and for how long.
MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)
# An activation code the agency hands over is good for this long, and used once.
ACTIVATION_VALID = timedelta(days=30)
MIN_PASSWORD_LENGTH = 8

RATINGS = (1, 2, 3, 4, 5)
# A rating at or below this is a low rating (an alert for the supervisor).
LOW_RATING = 2
# The inspecting agency sees only aggregates, and only over at least this many ratings: fewer
# would let it guess who rated what.
MIN_RATINGS_FOR_AGGREGATE = 5
MAX_COMMENT = 2000
MAX_PHOTOS = 6

# A complaint is answered within this many days of being made (configurable per agency:
# settings["supervision"]["complaint_answer_days"]).
COMPLAINT_ANSWER_DAYS = 15
COMPLAINT_OPEN, COMPLAINT_ANSWERED, COMPLAINT_CLOSED = "open", "answered", "closed"
COMPLAINT_STATUSES = (COMPLAINT_OPEN, COMPLAINT_ANSWERED, COMPLAINT_CLOSED)
COMPLAINT_STATUS_LABELS = {
    COMPLAINT_OPEN: "待答复",
    COMPLAINT_ANSWERED: "已答复",
    COMPLAINT_CLOSED: "已办结",
}
BY_SUPERVISOR, BY_AGENCY = "supervisor", "agency"


@dataclass(frozen=True)
class Lockout:
    failed: int
    locked_until: datetime | None


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


def after_failure(failed: int, now: datetime) -> Lockout:
    """One more failed attempt: the counter, and a lock once it reaches the limit."""
    failed += 1
    if failed >= MAX_FAILED_ATTEMPTS:
        return Lockout(0, now + LOCKOUT)
    return Lockout(failed, None)


def check_password(password: str, repeated: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            f"密码至少 {MIN_PASSWORD_LENGTH} 位", fields={"password": ["too short"]}
        )
    if password != repeated:
        raise ValidationFailed("两次输入的密码不一致", fields={"password2": ["differs"]})


def check_rating(rating: int, comment: str) -> None:
    if rating not in RATINGS:
        raise ValidationFailed("评分为 1 到 5 星", fields={"rating": ["one of 1-5"]})
    if len(comment) > MAX_COMMENT:
        raise ValidationFailed(
            f"评价不超过 {MAX_COMMENT} 字", fields={"comment": [f"at most {MAX_COMMENT}"]}
        )


def check_complaint(text: str, photos: int) -> None:
    if not text.strip():
        raise ValidationFailed("请写明投诉内容", fields={"text": ["required"]})
    if len(text) > MAX_COMMENT:
        raise ValidationFailed(
            f"投诉内容不超过 {MAX_COMMENT} 字", fields={"text": [f"at most {MAX_COMMENT}"]}
        )
    if photos > MAX_PHOTOS:
        raise ValidationFailed(
            f"照片不超过 {MAX_PHOTOS} 张", fields={"photos": [f"at most {MAX_PHOTOS}"]}
        )


def answer_due(made_on: date, days: int = COMPLAINT_ANSWER_DAYS) -> date:
    return made_on + timedelta(days=days)


def is_overdue(status: str, due: date, today: date) -> bool:
    """An open complaint past its answer deadline."""
    return status == COMPLAINT_OPEN and today > due


@dataclass(frozen=True)
class RatingSummary:
    """What the inspecting agency may see of its ratings: nothing under the threshold."""

    count: int | None
    average: float | None
    shown: bool


def summarize_ratings(ratings: list[int]) -> RatingSummary:
    """Under the threshold not even the count is given: one rating after one visit would
    tell the agency who rated."""
    if len(ratings) < MIN_RATINGS_FOR_AGGREGATE:
        return RatingSummary(None, None, False)
    return RatingSummary(len(ratings), round(sum(ratings) / len(ratings), 2), True)
