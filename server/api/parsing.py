"""Reading request bodies: the strict JSON every API route parses, and its Blueprint."""

from __future__ import annotations

import json
import math
import re
from typing import Any

import flask_smorest
from flask import Request
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from server.domain.errors import BadRequest, TooLarge
from server.domain.sync import nesting_exceeds

# Escapes that can decode to what PostgreSQL refuses to store in text or json: U+0000 and
# UTF-16 surrogates (a lone one cannot be encoded as UTF-8). Valid surrogate pairs decode to
# one character and pass; the walk below only runs when one of these escapes appears.
_SUSPICIOUS_ESCAPE = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")


# No request body needs more; below it, nothing that walks a parsed body recursively (schema
# checks, hashing, storing) comes near Python's recursion limit.
MAX_BODY_DEPTH = 128


class MalformedJSON(BadRequest):
    code = "malformed_json"


def _reject_constant(name: str) -> Any:
    raise MalformedJSON(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e400 would become Infinity, which JSON cannot hold
        raise MalformedJSON("a number in the JSON body is out of range")
    return value


def _check_string(value: str) -> None:
    if "\x00" in value:
        raise BadRequest("the JSON body contains a NUL character", code="nul_character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise MalformedJSON("a string in the JSON body holds a lone UTF-16 surrogate") from None


def _check_strings(document: Any) -> None:
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            _check_string(value)
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)


def parse_json_body(raw: bytes) -> Any:
    """Parse a request body as strict JSON (RFC 8259) that the database can also store.

    Anything else is a 400: ``malformed_json`` for bad syntax or encoding, nesting too deep
    to parse, numbers Python will not convert (5,000 digits) or that overflow, NaN and
    Infinity, lone surrogates; ``nul_character`` for U+0000 in a string.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedJSON("the request body is not UTF-8 text") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise MalformedJSON("the JSON body is nested too deeply") from None
    except json.JSONDecodeError as exc:
        raise MalformedJSON(f"the request body is not valid JSON: {exc.msg}") from None
    except ValueError:  # int() refuses numbers of more than 4,300 digits
        raise MalformedJSON("a number in the JSON body is too long") from None
    # Counting brackets (quoted ones too) is cheap and bounds the depth; only a body that
    # could nest too deep is walked.
    if raw.count(b"[") + raw.count(b"{") > MAX_BODY_DEPTH and nesting_exceeds(
        document, MAX_BODY_DEPTH
    ):
        raise BadRequest(
            f"the JSON body nests more than {MAX_BODY_DEPTH} levels deep", code="nested_too_deep"
        )
    if _SUSPICIOUS_ESCAPE.search(raw):
        _check_strings(document)
    return document


def _check_streamed_size(req: Request, raw: bytes) -> None:
    """413 for a body sent without ``Content-Length`` (chunked) that goes past the limit.

    Werkzeug stops reading such a body at ``max_content_length`` and hands over what it read,
    which would parse as truncated JSON; one byte more left in the stream tells the two
    apart (a body exactly at the limit is accepted)."""
    limit = req.max_content_length
    if limit is None or req.content_length is not None or len(raw) < limit:
        return
    if req.environ["wsgi.input"].read(1):
        raise TooLarge("the request body is larger than this endpoint accepts")


class StrictJSONParser(FlaskParser):
    """webargs' parser, reading JSON bodies with ``parse_json_body``."""

    def _raw_load_json(self, req: Request) -> Any:
        if not is_json_request(req):
            return core.missing
        raw = req.get_data(cache=True)
        if not raw:
            return core.missing
        _check_streamed_size(req, raw)
        return parse_json_body(raw)


class Blueprint(flask_smorest.Blueprint):
    """The flask-smorest Blueprint every API module uses, with the strict parser."""

    ARGUMENTS_PARSER = StrictJSONParser()
