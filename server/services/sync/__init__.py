"""Offline sync: push (ops from devices), pull (the change feed), and the feed itself."""
