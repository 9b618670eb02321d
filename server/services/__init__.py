"""Use cases: each function loads what it needs, applies the domain rules, and commits once."""
