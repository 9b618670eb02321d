"""Extension objects: created here, bound to the app in ``create_app``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, TypeAlias

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session as _FlaskSession


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

    if TYPE_CHECKING:
        # Every model here is mapped to a Table (none to a join or a select), so its
        # ``__table__`` has ``.c``, ``.insert()`` and the rest of a Table's API.
        __table__: ClassVar[sa.Table]


class Session(_FlaskSession):
    """Flask-SQLAlchemy's session, except that a session bound to a connection uses it.

    That is plain SQLAlchemy's behaviour, and what lets several service calls, each
    committing, run inside one outer transaction (``join_transaction_mode``): the demo seed
    is all or nothing that way.
    """

    def get_bind(self, mapper: Any = None, clause: Any = None, bind: Any = None, **kw: Any) -> Any:
        if bind is None and isinstance(self.bind, sa.Connection):
            return self.bind
        return super().get_bind(mapper=mapper, clause=clause, bind=bind, **kw)


# A session, or Flask-SQLAlchemy's scoped proxy to one (``db.session``): either is passed
# to the helpers that read or write ``session.info``.
SessionLike: TypeAlias = so.Session | so.scoped_session[Any]


# A select of any columns. ``sa.Select[Any]`` is a select of one column (the row type is
# variadic); written as a string so that nothing subscripts ``Select`` at run time.
AnySelect: TypeAlias = "sa.Select[*tuple[Any, ...]]"


# Responses are serialized after the commit; expiring would reload every row for nothing.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False, "class_": Session})

# The models' base. At run time it is ``db.Model``: ``Base`` rebuilt with Flask-SQLAlchemy's
# mixins, sharing its metadata. ``db.Model`` is set in ``SQLAlchemy.__init__``, so a type
# checker cannot subclass it; to the checker the base is ``Base``, whose ``Mapped`` columns
# are what the models' attributes are typed from.
if TYPE_CHECKING:
    Model = Base
else:
    Model = db.Model
migrate = Migrate()
