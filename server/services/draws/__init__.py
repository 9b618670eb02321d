"""Draw plans, the recusal registry, and running a draw: load the pool, draw, store, commit."""
