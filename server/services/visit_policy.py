"""The visit policy in force for an agency and a year: the one place yearly caps come from."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from server.domain.visits import VisitPolicy
from server.extensions import db
from server.models import Agency, AnnualPlan


def visit_policy_for(agency: Agency, year: int) -> VisitPolicy:
    """The agency's visit settings (``settings["visits"]``), with that year's yearly caps.

    When the agency has an annual plan for ``year``, the plan's ``yearly_caps`` are the caps
    (an empty set of caps in a plan means none); otherwise those of the settings. Scan
    warnings, draws and the plan's completion all ask here.
    """
    policy = VisitPolicy.from_settings((agency.settings or {}).get("visits"))
    caps = db.session.execute(
        sa.select(AnnualPlan.yearly_caps).where(
            AnnualPlan.agency_id == agency.id, AnnualPlan.year == year
        )
    ).scalar_one_or_none()
    if caps is None:
        return policy
    return dataclasses.replace(policy, yearly_caps=dict(caps))
