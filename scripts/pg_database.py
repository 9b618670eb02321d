"""Create or drop a scratch PostgreSQL database: ``pg_database.py create|drop NAME``.

Connects to ``PG_ADMIN_URL`` (default postgresql://127.0.0.1:5432/test).
"""

from __future__ import annotations

import os
import re
import sys

import psycopg


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[1] not in {"create", "drop"}:
        print(__doc__, file=sys.stderr)
        return 2
    action, name = argv[1], argv[2]
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        print(f"not a safe database name: {name}", file=sys.stderr)
        return 2
    admin = os.environ.get("PG_ADMIN_URL", "postgresql://127.0.0.1:5432/test")
    with psycopg.connect(admin, autocommit=True) as conn:
        if action == "create":
            conn.execute(f'CREATE DATABASE "{name}"')
        else:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
