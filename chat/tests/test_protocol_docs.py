"""docs/protocol.md documents what the server sends, and chat/protocol's tables say what that is.

The tables (SERVER_FRAME_TYPES, CLIENT_FRAME_TYPES, ERROR_CODES, jabber.events.CloseCode) are
the source of truth for the document; the code is the source of truth for the
tables, so both are checked here: the document against the tables, the tables
against the frame builders, the parser, the consumer and every error and close
code written in the production source.
"""

import ast
import inspect
import json
import re
import types
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from chat import protocol
from jabber import events

ROOT = Path(settings.BASE_DIR)
DOCUMENT = ROOT / "docs" / "protocol.md"

# The server's own code: the apps and the project package, without their tests.
SOURCE_PACKAGES = ("accounts", "chat", "jabber", "presence")
NOT_SOURCE = {"tests", "testing", "migrations"}

# Calls whose first argument (or `code=`) is an error code that reaches the client.
ERROR_CALLS = {"ChatError", "ProtocolError", "error_frame", "reject_frame"}


# Reading the document ------------------------------------------------------------


def sections() -> dict[str, list[str]]:
    """The lines under each `## ` heading of the document, code blocks left out."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    fenced = False
    for line in DOCUMENT.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif fenced:
            continue
        elif line.startswith("## "):
            current = found.setdefault(line[3:].strip(), [])
        else:
            current.append(line)
    return found


def frame_headings(section: str) -> set[str]:
    """The names of the "### `type`" headings of a section."""
    return {
        match.group(1)
        for line in sections()[section]
        if (match := re.fullmatch(r"### `([^`]+)`", line.strip()))
    }


def table_rows(section: str) -> dict[str, str]:
    """A section's table rows, by their first cell (a value in backticks)."""
    return {
        match.group(1): line
        for line in sections()[section]
        if (match := re.match(r"\| `([^`]+)` \|", line))
    }


def anchors() -> set[str]:
    """The anchors GitHub gives the document's headings (repeats get -1, -2, …)."""
    seen: dict[str, int] = {}
    result = set()
    fenced = False
    for line in DOCUMENT.read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else re.match(r"#{1,6} (.+)", line)
        if match is None:
            continue
        slug = re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-")
        count = seen.get(slug, 0)
        seen[slug] = count + 1
        result.add(slug if count == 0 else f"{slug}-{count}")
    return result


DOCUMENTED = {
    "server frame": lambda: frame_headings("Server frames"),
    "client frame": lambda: frame_headings("Client frames"),
    "error code": lambda: set(table_rows("Error codes")),
    "close code": lambda: set(table_rows("Close codes")),
}

DECLARED = {
    "server frame": lambda: set(protocol.SERVER_FRAME_TYPES),
    "client frame": lambda: set(protocol.CLIENT_FRAME_TYPES),
    "error code": lambda: set(protocol.ERROR_CODES),
    "close code": lambda: {str(code) for code in events.close_code_table().values()},
}


# Reading the source ------------------------------------------------------------


def source_files(suffixes: tuple[str, ...] = (".py",)) -> Iterator[Path]:
    for package in SOURCE_PACKAGES:
        for path in sorted((ROOT / package).rglob("*")):
            relative = path.relative_to(ROOT).parts
            if path.suffix in suffixes and not NOT_SOURCE.intersection(relative):
                yield path


def linking_files() -> Iterator[Path]:
    """Every file of the server and the browser client that may refer to the document."""
    yield from source_files((".py",))
    for folder in ("static", "templates"):
        yield from (p for p in sorted((ROOT / folder).rglob("*")) if p.suffix in (".js", ".html"))


def calls(name_filter: set[str]) -> Iterator[tuple[str, ast.Call]]:
    """Every call in the source to a function or method named in `name_filter`."""
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                function = node.func
                name = function.attr if isinstance(function, ast.Attribute) else None
                name = function.id if isinstance(function, ast.Name) else name
                if name in name_filter:
                    yield f"{path.relative_to(ROOT)}:{node.lineno}", node


def literal_argument(call: ast.Call, keyword: str) -> object:
    """The call's first positional argument, or its `keyword` one, when written literally."""
    candidates = [*call.args[:1], *(k.value for k in call.keywords if k.arg == keyword)]
    for candidate in candidates:
        if isinstance(candidate, ast.Constant):
            return candidate.value
    return None


def error_codes_in_source() -> dict[str, str]:
    """Each error code written in the source, with where it is written."""
    found = {}
    for where, call in calls(ERROR_CALLS):
        code = literal_argument(call, "code")
        if isinstance(code, str):
            found.setdefault(code, where)
    return found


def close_codes_in_source() -> dict[int, str]:
    """Each close code written in the source: CLOSE_* constants and literal close() codes."""
    found = {}
    for path in source_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and type(node.value.value) is int
                and any(isinstance(t, ast.Name) and t.id.startswith("CLOSE_") for t in node.targets)
            ):
                found.setdefault(node.value.value, f"{path.relative_to(ROOT)}:{node.lineno}")
    for where, call in calls({"close", "close_sockets"}):
        code = literal_argument(call, "code")
        if type(code) is int:
            found.setdefault(code, where)
    return found


def dummy(parameter: inspect.Parameter) -> object:
    """A value of the parameter's annotated type, for calling a frame builder."""
    annotation = parameter.annotation
    if typing.get_origin(annotation) in (types.UnionType, typing.Union):
        annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
    kind = typing.get_origin(annotation) or annotation
    return {dict: {}, list: [], bool: False, int: 1, float: 1.0, str: "x"}[kind]


def built_frames() -> dict[str, dict]:
    """What each `*_frame` builder of chat/protocol/frames.py returns, by builder name."""
    frames = {}
    for name, builder in inspect.getmembers(protocol, inspect.isfunction):
        if not name.endswith("_frame") or builder.__module__ != protocol.frames.__name__:
            continue
        signature = inspect.signature(builder, eval_str=True)
        arguments = {
            parameter.name: dummy(parameter)
            for parameter in signature.parameters.values()
            if parameter.default is inspect.Parameter.empty
        }
        frames[name] = builder(**arguments)
    return frames


def minimal_client_frame(kind: str) -> str:
    """A frame of that type with every field any client frame needs."""
    return json.dumps(
        {"type": kind, "id": 1, "body": "hi", "emoji": "👍", "seq": 1, "reason": "spam"}
    )


# The document against the tables ----------------------------------------------------


@pytest.mark.parametrize("kind", DECLARED)
def test_everything_the_server_declares_is_documented(kind):
    missing = DECLARED[kind]() - DOCUMENTED[kind]()
    assert not missing, f"docs/protocol.md does not document the {kind}s {sorted(missing)}"


@pytest.mark.parametrize("kind", DECLARED)
def test_nothing_is_documented_that_the_server_does_not_declare(kind):
    extra = DOCUMENTED[kind]() - DECLARED[kind]()
    assert not extra, f"docs/protocol.md documents {kind}s the server lacks: {sorted(extra)}"


def test_each_close_code_row_names_its_code():
    rows = table_rows("Close codes")
    for name, code in events.close_code_table().items():
        assert f"`{name}`" in rows[str(code)], f"the row of close code {code} should name {name}"


def test_links_within_the_document_reach_a_heading():
    text = DOCUMENT.read_text(encoding="utf-8")
    broken = set(re.findall(r"\]\(#([^)]+)\)", text)) - anchors()
    assert not broken, f"docs/protocol.md links to missing sections {sorted(broken)}"


def test_links_from_the_code_reach_a_heading():
    broken = []
    for path in linking_files():
        for anchor in re.findall(r"protocol\.md#([\w-]+)", path.read_text(encoding="utf-8")):
            if anchor not in anchors():
                broken.append(f"{path.relative_to(ROOT)}: #{anchor}")
    assert not broken, f"links to missing sections of docs/protocol.md: {broken}"


# The tables against the code --------------------------------------------------------


def test_every_frame_builder_makes_a_declared_server_frame_type():
    frames = built_frames()
    assert frames, "chat/protocol/frames.py should build frames in *_frame functions"
    undeclared = {
        name: frame["type"]
        for name, frame in frames.items()
        if frame["type"] not in protocol.SERVER_FRAME_TYPES
    }
    assert not undeclared, f"add these types to SERVER_FRAME_TYPES: {undeclared}"


def test_every_declared_server_frame_type_has_a_builder():
    built = {frame["type"] for frame in built_frames().values()}
    unbuilt = protocol.SERVER_FRAME_TYPES - built
    assert not unbuilt, f"SERVER_FRAME_TYPES declares types nothing builds: {sorted(unbuilt)}"


@pytest.mark.parametrize("kind", sorted(protocol.CLIENT_FRAME_TYPES))
def test_every_declared_client_frame_type_parses_into_a_command(kind):
    assert protocol.parse(minimal_client_frame(kind)) is not None


def test_every_command_the_consumer_handles_comes_from_a_declared_client_frame_type():
    from chat.consumers import ChatConsumer

    parsed = {
        type(protocol.parse(minimal_client_frame(k)).command) for k in protocol.CLIENT_FRAME_TYPES
    }
    unreachable = set(ChatConsumer.handlers) - parsed
    assert not unreachable, f"no declared client frame type parses into {unreachable}"


def test_every_error_code_in_the_source_is_declared():
    found = error_codes_in_source()
    assert found, "the error-code scan found no error codes: has the error type been renamed?"
    undeclared = {code: where for code, where in found.items() if code not in protocol.ERROR_CODES}
    assert not undeclared, f"add these codes to ERROR_CODES: {undeclared}"


def test_every_declared_error_code_is_in_the_source():
    unused = protocol.ERROR_CODES - set(error_codes_in_source())
    assert not unused, f"ERROR_CODES declares codes no code sends: {sorted(unused)}"


def test_close_codes_are_written_only_in_their_table():
    written = close_codes_in_source()
    assert not written, f"use jabber.events.CloseCode instead of numbers: {written}"
