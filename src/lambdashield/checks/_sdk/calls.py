"""What the code readers find: SDK calls, their arguments as far as they are known, and notes
on what could not be worked out.

Both readers (Python with `ast`, JavaScript/TypeScript with tree-sitter) produce these
values; nothing here depends on the language or on a template. A name that comes from an
environment variable stays an `EnvRef` until a function's environment is applied, so one
source file read once serves every function that ships it.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from lambdashield.model import Confidence, ScanError

__all__ = [
    "Arg",
    "ArgDict",
    "ArgList",
    "EnvRef",
    "Extraction",
    "Note",
    "NoteKind",
    "SdkCall",
    "Text",
    "Unknown",
]


@dataclass(frozen=True, slots=True)
class EnvRef:
    """The value of an environment variable (`os.environ["TABLE_NAME"]`, `process.env.X`)."""

    name: str
    default: str | None = None


@dataclass(frozen=True, slots=True)
class Unknown:
    """A part of a string the reader cannot know (event data, a function's result)."""

    reason: str = ""


Part = str | EnvRef | Unknown


@dataclass(frozen=True, slots=True)
class Text:
    """A string as far as it is known: literal runs, environment variables and unknowns."""

    parts: tuple[Part, ...]

    @property
    def literal(self) -> str | None:
        """The whole string when it is a literal."""
        if all(isinstance(p, str) for p in self.parts):
            return "".join(p for p in self.parts if isinstance(p, str))
        return None

    def __add__(self, other: Text) -> Text:
        return Text((*self.parts, *other.parts))


@dataclass(frozen=True, slots=True)
class ArgDict:
    """A dict argument (`RequestItems`, `CopySource`); keys that are not strings are dropped."""

    entries: tuple[tuple[Text, Arg], ...]
    open: bool = False
    """Some entries could not be read (`**kwargs`, a computed dict)."""

    def get(self, key: str) -> Arg:
        return next((v for k, v in self.entries if k.literal == key), None)


@dataclass(frozen=True, slots=True)
class ArgList:
    items: tuple[Arg, ...]
    open: bool = False


Arg = Text | ArgDict | ArgList | None
"""An argument's value; `None` when nothing is known about it."""


class NoteKind(enum.Enum):
    DYNAMIC_SERVICE = "dynamic-service"
    """A client or resource whose service name is not a literal: any service may be called."""
    DYNAMIC_METHOD = "dynamic-method"
    """`getattr(client, name)(...)`: any action of the service may be called."""
    ESCAPES = "escapes"
    """A client handed to code that was not analysed: any action of the service may be called."""
    LIBRARY = "library"
    """A library that calls AWS itself (PynamoDB, Powertools parameters): calls unseen."""
    UNKNOWN_METHOD = "unknown-method"
    """A method the SDK's service model does not have (a typo, or a newer SDK)."""
    UNMAPPED = "unmapped"
    """An operation lambdashield cannot map to an IAM action."""
    UNRESOLVED = "unresolved"
    """A resource name that could not be worked out; the narrowest safe pattern is used."""


@dataclass(frozen=True, slots=True)
class Note:
    path: PurePosixPath
    line: int
    kind: NoteKind
    message: str
    service: str | None = None
    """The botocore service it concerns; `None` for any service."""

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True, slots=True)
class SdkCall:
    """One call the code makes through an AWS SDK, with the API operations it performs."""

    path: PurePosixPath
    line: int
    service: str
    """The botocore service name (`dynamodb`, `s3`, `stepfunctions`)."""
    method: str
    """As written in the code: `get_item`, `upload_file`, `GetItemCommand`, `Table.get_item`."""
    operations: tuple[str, ...]
    """API operations (`GetItem`); a managed transfer performs several."""
    params: tuple[tuple[str, tuple[Arg, ...]], ...] = ()
    """Request parameters by API name, each with the values it may take."""

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}"

    def param(self, name: str) -> tuple[Arg, ...]:
        return next((values for key, values in self.params if key == name), ())


@dataclass(frozen=True, slots=True)
class Extraction:
    """Everything read from one function's handler source."""

    language: str | None
    """`python` or `javascript`; `None` when the source was not found."""
    entry: PurePosixPath | None
    """The handler file, as displayed."""
    files: tuple[PurePosixPath, ...] = ()
    """Every file read: the handler and the local modules it imports."""
    calls: tuple[SdkCall, ...] = ()
    notes: tuple[Note, ...] = ()
    errors: tuple[ScanError, ...] = ()
    missing: str = ""
    """Why the source was not analysed, when it was not."""

    @property
    def found(self) -> bool:
        return self.entry is not None

    @property
    def complete(self) -> bool:
        """The source was found and every file of it was read: what it calls is known,
        up to the notes."""
        return self.found and not self.errors

    @property
    def uncertain_services(self) -> frozenset[str]:
        """Services any of whose actions the code may call without the reader seeing it
        (a method chosen at run time, a client handed to unread code, a library that calls
        AWS itself); `*` stands for every service. A client of a service chosen at run
        time is not here: its methods are seen, and it lowers the confidence instead."""
        found: set[str] = set()
        for note in self.notes:
            if note.kind in _OPEN_KINDS:
                found.add(note.service or "*")
        return frozenset(found)

    def confidence(self, extra: Sequence[Note] = ()) -> Confidence:
        """How sure the reader is of the calls: `high` when every client, method and name
        is known, `medium` with unresolved names or unmapped calls, `low` when the code
        picks services or methods at run time or hands clients to unread code."""
        kinds = {note.kind for note in (*self.notes, *extra)}
        if not self.complete or kinds & _OPEN_KINDS or NoteKind.DYNAMIC_SERVICE in kinds:
            return Confidence.LOW
        if kinds:
            return Confidence.MEDIUM
        return Confidence.HIGH

    def confidence_reason(self, extra: Sequence[Note] = (), limit: int = 3) -> str:
        if not self.found:
            return self.missing or "the handler source was not found"
        if self.errors:
            error = self.errors[0]
            where = f"{error.path}:{error.line}" if error.line else str(error.path)
            return f"{where} could not be read: {error.message}"
        notes = (*self.notes, *extra)
        level = self.confidence(extra)
        if level is Confidence.LOW:
            notes = tuple(n for n in notes if n.kind in _OPEN_KINDS | {NoteKind.DYNAMIC_SERVICE})
        shown = sorted({f"{n.message} ({n.where})" for n in notes})
        more = len(shown) - limit
        text = "; ".join(shown[:limit])
        return f"{text}; and {more} more" if more > 0 else text


_OPEN_KINDS = frozenset({NoteKind.DYNAMIC_METHOD, NoteKind.ESCAPES, NoteKind.LIBRARY})
