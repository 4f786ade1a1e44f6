"""Input limits every surface shares: integer ranges, body size and JSON nesting, text.

Bad input fails closed with a 4xx before it reaches a package function (issue 16):

- every integer in a path, query, form or JSON body fits a signed 64-bit column
  (:data:`Id`, :data:`Int64`, :func:`form_int`); only ASCII digits count as digits, so
  ``²`` (which ``str.isdigit`` accepts) is refused, not a crash;
- :class:`InputLimits`, an ASGI middleware, refuses a body over :data:`MAX_BODY_BYTES`
  (from ``Content-Length`` before reading, else while reading) and a JSON body nested
  deeper than :data:`MAX_JSON_DEPTH` (counted on the bytes, before any parser recurses),
  and a JSON body holding an unpaired UTF-16 surrogate (``"x\\ud800"``): such text cannot
  be stored or encoded, so it is refused rather than silently changed. Form fields are
  percent-decoded with replacement (a stray surrogate becomes U+FFFD), so forms normalise;
- a NUL character in a JSON string or a form field is refused (PostgreSQL's text columns
  cannot hold one);
- a ``multipart/form-data`` body (every form route accepts one) is parsed once on its raw
  bytes: a field's name, a text field's value and a file's name must be strict UTF-8
  (so the CESU-8 bytes of a lone surrogate are refused, where Starlette would silently
  read them as Latin-1) and hold no NUL; a file's content is not text and is not checked.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import Field
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from accord.errors import AccordError

_log = logging.getLogger("accord.serve")
MAX_INT = 2**63 - 1
MIN_INT = -(2**63)
# A path id: database ids start at 1 and are 64-bit.
Id = Annotated[int, Path(ge=1, le=MAX_INT)]
# A number counted from 0 in a path (a deliberation's statements).
Number = Annotated[int, Path(ge=0, le=MAX_INT)]
QueryId = Annotated[int, Query(ge=1, le=MAX_INT)]
QueryCount = Annotated[int, Query(ge=0, le=MAX_INT)]
# Any other integer a client sends that reaches the database.
Int64 = Annotated[int, Field(ge=MIN_INT, le=MAX_INT)]
Count = Annotated[int, Field(ge=0, le=MAX_INT)]

MAX_BODY_BYTES = 1_000_000
MAX_JSON_DEPTH = 32
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(rb"[\[\]{}]")
_ASCII_INT = re.compile(r"[+-]?[0-9]{1,19}")


class InputError(AccordError):
    """Input refused before it reached a package (status 400, or 413 for a large body)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_int(raw: str, what: str, *, low: int = MIN_INT, high: int = MAX_INT) -> int:
    """An integer typed by a person: ASCII digits only, within ``low..high``.

    Args:
        raw: the text as sent (surrounding spaces are ignored).
        what: the field's name, for the message.
        low: the smallest value allowed.
        high: the largest value allowed.

    Raises:
        InputError: not a whole number in ASCII digits, or out of range.
    """
    text = raw.strip()
    if not _ASCII_INT.fullmatch(text):
        raise InputError(f"{what}: {text[:40]!r} is not a whole number")
    value = int(text)
    if not low <= value <= high:
        raise InputError(f"{what}: {text} is outside {low}..{high}")
    return value


def form_int(form: Any, key: str, *, low: int = MIN_INT, high: int = MAX_INT,
             default: int | None = None) -> int:
    """A form field as an integer (see :func:`parse_int`); blank means ``default``.

    Args:
        form: the submitted form.
        key: the field's name.
        low: the smallest value allowed.
        high: the largest value allowed.
        default: the value of a blank or missing field; None: the field is required.

    Raises:
        InputError: missing (without a default), not a whole number, or out of range.
    """
    raw = str(form.get(key, "")).strip()
    if not raw and default is not None:
        return default
    return parse_int(raw, key, low=low, high=high)


def json_depth(body: bytes) -> int:
    """How deeply ``body``'s arrays and objects nest, counted without parsing it.

    Brackets inside strings do not count. Invalid JSON gives some number too: the parser
    that runs next reports it.
    """
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub(b'""', body)):
        if match.group() in (b"[", b"{"):
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(depth - 1, 0)
    return deepest


def check_json_body(body: bytes) -> None:
    """Refuse a JSON body that does not parse, is too deep, holds an unpaired surrogate or
    a NUL, or a number no float holds (``1e999``, ``NaN``, ``Infinity``: they could not
    even be echoed back in a validation error).

    Raises:
        InputError: not JSON, nested deeper than :data:`MAX_JSON_DEPTH`, a lone surrogate,
            or a non-finite number.
    """
    if json_depth(body) > MAX_JSON_DEPTH:
        raise InputError(f"the JSON body nests deeper than {MAX_JSON_DEPTH} levels")
    if not body.strip():
        return  # no body: the route says what it needs
    try:
        data = json.loads(body, parse_constant=_no_constant, parse_float=_finite)
    except (ValueError, RecursionError):  # bad syntax, bad UTF-8, a 5,000-digit integer
        raise InputError("the request body is not valid JSON") from None
    _check_text(data)


def _check_text(value: Any) -> None:
    """Every string (keys too) of parsed JSON: no lone surrogate, no NUL (PostgreSQL's text
    columns cannot hold one). Depth is already capped, so recursion is safe."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)
    elif isinstance(value, str):
        if "\x00" in value:
            raise InputError("the JSON body holds a NUL character (\\u0000), which no text "
                             "field can hold")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            bad = ord(value[exc.start])
            raise InputError("the JSON body holds an unpaired UTF-16 surrogate "
                             f"(\\u{bad:04x}); send text as valid Unicode") from None


_FORM_NUL = re.compile(rb"%00|\x00", re.IGNORECASE)


def check_form_body(body: bytes) -> None:
    """Refuse a URL-encoded form holding a NUL character (``%00``): no text field can hold
    one. (Stray surrogates need nothing: form decoding replaces them with U+FFFD.)

    Raises:
        InputError: a NUL character.
    """
    if _FORM_NUL.search(body):
        raise InputError("the form holds a NUL character (%00), which no text field can hold")


def check_multipart_body(body: bytes, content_type: bytes) -> None:
    """Refuse a ``multipart/form-data`` form whose field names, text values or file names
    hold a NUL or are not valid UTF-8 (a lone surrogate's CESU-8 bytes included).

    Args:
        body: the whole body, already capped at :data:`MAX_BODY_BYTES`.
        content_type: the request's ``Content-Type`` header (it carries the boundary).

    Raises:
        InputError: no boundary, a malformed body, or a text part as above.
    """
    from python_multipart.exceptions import MultipartParseError
    from python_multipart.multipart import MultipartParser, parse_options_header

    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise InputError("the multipart form has no boundary in its Content-Type")
    parts: list[dict[str, bytes]] = []
    header: dict[str, bytes] = {"name": b"", "value": b""}

    def part_begin() -> None:
        parts.append({"disposition": b"", "data": b""})

    def header_field(data: bytes, start: int, end: int) -> None:
        header["name"] += data[start:end]

    def header_value(data: bytes, start: int, end: int) -> None:
        header["value"] += data[start:end]

    def header_end() -> None:
        if header["name"].strip().lower() == b"content-disposition":
            parts[-1]["disposition"] = header["value"]
        header["name"] = header["value"] = b""

    def part_data(data: bytes, start: int, end: int) -> None:
        parts[-1]["data"] += data[start:end]

    parser = MultipartParser(boundary, {"on_part_begin": part_begin,
                                        "on_header_field": header_field,
                                        "on_header_value": header_value,
                                        "on_header_end": header_end,
                                        "on_part_data": part_data})
    try:
        parser.write(body)
        parser.finalize()
    except MultipartParseError:
        raise InputError("the multipart form is malformed") from None
    for number, part in enumerate(parts, 1):
        _, options = parse_options_header(part["disposition"])
        name = options.get(b"name", b"")
        what = f"multipart field {number}"
        _check_form_text(name, f"{what}'s name")
        shown = name.decode("utf-8")[:40]
        if b"filename" in options:
            _check_form_text(options[b"filename"], f"the file name of field {shown!r}")
        else:
            _check_form_text(part["data"], f"field {shown!r}")


def _check_form_text(raw: bytes, what: str) -> None:
    if b"\x00" in raw:
        raise InputError(f"{what} holds a NUL character, which no text field can hold")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{what} is not valid UTF-8 (a lone surrogate or a stray byte); "
                         "send text as valid Unicode") from None


def _no_constant(name: str) -> float:
    raise InputError(f"the JSON body holds {name}, which is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):  # 1e999 parses as infinity
        raise InputError(f"the JSON body holds the number {text[:40]}, too large for a float")
    return value


class InputLimits:
    """ASGI middleware: body size and JSON shape are checked before any route parses.

    A refused request gets its answer from ``respond(scope, error)`` (the app picks the
    shape: OpenAI's on ``/v1``, JSON on ``/api``, a page elsewhere).
    """

    def __init__(self, app: ASGIApp, respond: Any) -> None:
        self.app = app
        self.respond = respond

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        try:
            declared = int(headers.get(b"content-length", b"0").decode("latin-1") or 0)
        except ValueError:
            declared = 0  # the server rejects a malformed length itself
        try:
            if declared > MAX_BODY_BYTES:
                raise InputError(f"the request body is larger than {MAX_BODY_BYTES:,} bytes",
                                 413)
            body = await _read(receive)
            kind = headers.get(b"content-type", b"").lower()
            if b"json" in kind:
                check_json_body(body)
            elif kind.startswith(b"application/x-www-form-urlencoded"):
                check_form_body(body)
            elif kind.startswith(b"multipart/form-data"):
                check_multipart_body(body, headers.get(b"content-type", b""))
        except InputError as exc:
            await self.respond(scope, exc)(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # the disconnect, when the client goes

        await self.app(scope, replay, send)


async def _read(receive: Receive) -> bytes:
    """The whole body, or InputError once it passes the limit."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)  # the client went away mid-body
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise InputError(f"the request body is larger than {MAX_BODY_BYTES:,} bytes", 413)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def log_unexpected(method: str, path: str, exc: BaseException) -> str:
    """Log an unexpected error under a fresh id; the message a client gets names the id.

    Only the method, the path (never the query string, headers, cookies or body, which
    may hold keys, passwords or session tokens) and the traceback are logged.
    """
    error_id = secrets.token_hex(6)
    _log.error("unexpected error %s on %s %s", error_id, method, path,
               exc_info=(type(exc), exc, exc.__traceback__))
    return (f"something went wrong on our side (error id {error_id}); it has been logged, "
            "please report the id")
