"""Extension objects: created here, bound to the app in ``create_app``."""

from __future__ import annotations

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy


class Base(so.DeclarativeBase):
    """Declarative base with a naming convention so Alembic names constraints stably."""

    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


# Responses are serialized after the commit; expiring would reload every row for nothing.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
