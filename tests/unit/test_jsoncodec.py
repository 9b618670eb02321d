"""The JSON text of stored columns: an audit entry's changes frozen as orjson writes them read
back as the walk in Python (``to_json``) made them."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import orjson
from hypothesis import given
from hypothesis import strategies as st

from server import jsoncodec
from server.services.sync.records import to_json

_zones = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
_moments = st.datetimes(
    min_value=datetime(1900, 1, 2), max_value=datetime(2999, 12, 30), timezones=_zones
)
_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
    | st.uuids()
    | _moments
    | st.dates()
)
_values = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(st.dictionaries(st.text(max_size=10), st.tuples(st.none(), _values), max_size=6))
def test_frozen_changes_read_back_as_the_walk_in_python_wrote_them(changes) -> None:
    frozen = jsoncodec.frozen(changes)
    assert frozen is not None
    assert jsoncodec.loads(jsoncodec.dumps(frozen)) == jsoncodec.loads(
        jsoncodec.dumps(to_json(changes))
    )


def test_frozen_keeps_the_value_as_it_was_when_frozen() -> None:
    team = ["a"]
    frozen = jsoncodec.frozen({"inspector_ids": [None, team]})
    team.append("b")
    assert orjson.loads(jsoncodec.dumps(frozen)) == {"inspector_ids": [None, ["a"]]}


def test_what_orjson_cannot_encode_is_left_to_the_walk_in_python() -> None:
    assert jsoncodec.frozen({"place": [None, 2**70]}) is None


def test_times_dates_and_ids_are_written_as_the_walk_in_python_writes_them() -> None:
    east = timezone(timedelta(hours=8))
    record = uuid.uuid4()
    value = {
        "at": datetime(2025, 3, 3, 9, 0, 0, 123456, tzinfo=east),
        "whole": datetime(2025, 3, 3, 9, 0, tzinfo=east),
        "day": date(2025, 3, 3),
        "id": record,
    }
    assert orjson.loads(jsoncodec.dumps(jsoncodec.frozen(value))) == to_json(value)
