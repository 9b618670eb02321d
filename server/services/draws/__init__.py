"""Draw plans, the recusal registry, and running a draw: load the pool, draw, store, commit.

``plans``, ``seeds`` (commitments published before a draw), ``recusals``, ``running`` (the
pool, the draw, its tasks) and ``reading`` (draws as the office reads and verifies them).
"""
