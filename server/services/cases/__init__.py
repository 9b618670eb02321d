"""Penalty cases to published decisions: one function per use case, each one transaction.

``context`` (the agency and date checks), ``views`` (reading cases), ``proceedings`` (open,
review, decide, exempt, dismiss, transfer), ``publication``, ``printed`` (the decision's PDF),
``public_list`` and ``complaints``.
"""
