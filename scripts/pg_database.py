"""Create or drop a scratch PostgreSQL database, or print its URL.

    pg_database.py create|drop|url NAME

The admin connection (where CREATE DATABASE runs) is ``PG_ADMIN_URL``; without it, the server
of ``TEST_DATABASE_URL``; without either, postgresql://127.0.0.1:5432/test. ``url NAME``
prints the SQLAlchemy URL of database NAME on that server: same user, password, host, port
and options, only the database name swapped.
"""

from __future__ import annotations

import os
import re
import sys

import psycopg
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "postgresql://127.0.0.1:5432/test"


def admin_url() -> str:
    base = os.environ.get("PG_ADMIN_URL") or os.environ.get("TEST_DATABASE_URL")
    if not base:
        return DEFAULT_ADMIN_URL
    return make_url(base).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(name: str) -> str:
    """The URL the tests use for database ``name`` on the admin URL's server."""
    url = make_url(admin_url()).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in {"create", "drop", "url"}:
        print(__doc__, file=sys.stderr)
        return 2
    action, name = argv[1], argv[2]
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        print(f"not a safe database name: {name}", file=sys.stderr)
        return 2
    if action == "url":
        print(database_url(name))
        return 0
    with psycopg.connect(admin_url(), autocommit=True) as conn:
        if action == "create":
            conn.execute(f'CREATE DATABASE "{name}"')
        else:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
