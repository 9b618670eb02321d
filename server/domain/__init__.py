"""Pure business rules: no Flask, no SQLAlchemy, time and randomness injected."""
