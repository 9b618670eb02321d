"""Penalty cases to published decisions: one function per use case, each one transaction."""
