"""The manager's hazards: find, export, count, read one with its history, take a step.

``common`` (roles, filters, a list row, the agency's day), ``lists`` (the list and its CSV),
``aggregates`` (the statistics), ``detail`` (one hazard with its history) and ``steps`` (a
step taken from the office).
"""
