"""Redaction of secrets and personal data before anything reaches a log.

Two tests decide what is hidden:

* **by key**: a mapping value whose key names a secret is masked whole, whatever it holds.
  Keys are compared without case and separators, so ``password``, ``Password``, ``API-Key``,
  ``apiKey``, ``x_api_key`` and ``X-Api-Key`` all count (see `DEFAULT_KEY_SUBSTRINGS` and
  `DEFAULT_KEY_WORDS`).
* **by value**: inside every string, wherever it sits, text shaped like a secret is masked in
  place: AWS access key IDs and secret access keys, JWTs, ``Bearer``/``Basic`` credentials,
  PEM private keys, card numbers that pass the Luhn check, passwords in URLs
  (``scheme://user:pass@host``), ``password=...`` style assignments, and e-mail addresses when
  asked.

The input is never changed: `Redactor.redact` builds a new structure (dicts, lists and tuples
are copied, strings are immutable). Strings that hold a JSON object or array are parsed,
redacted and serialised again. Depth and total size are bounded; past a bound the value is
replaced by `DEPTH_MARKER` or `SIZE_MARKER`, never kept raw.

Importing this module loads nothing beyond the interpreter's start-up modules: ``re`` and
``json`` are loaded, and the patterns compiled, on the first redaction (``hmac`` and
``unicodedata`` when first needed), so importing the runtime stays cheap.

Each `Redactor` remembers, up to a bound, the keys it has classified and the strings it has
found clean, so the header names and values that recur from one invocation to the next are
looked at once. Those caches hold inputs, never outputs, and are never logged.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from re import Match
    from types import ModuleType
    from typing import Literal, ParamSpec

    MaskStyle = Literal["full", "partial", "hmac"]
    _P = ParamSpec("_P")

__all__ = [
    "DEFAULT_KEY_SUBSTRINGS",
    "DEFAULT_KEY_WORDS",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_SIZE",
    "DEPTH_MARKER",
    "MASK",
    "SIZE_MARKER",
    "Redactor",
    "default_redactor",
    "normalise_key",
    "redact",
    "redact_text",
    "redacts",
]

MASK = "***"
"""What a full mask writes, whatever the length of the secret."""
DEPTH_MARKER = "[REDACTED: nested too deep]"
"""Replaces a container nested deeper than ``max_depth``."""
SIZE_MARKER = "[REDACTED: over size limit]"
"""Stands for what is left once ``max_size`` is spent: a string, the rest of a list (one
marker), or the rest of a mapping (one ``SIZE_MARKER: <entries left>`` entry). Each entry of a
container counts one, and a string long enough to be scanned counts its length."""
BINARY_MARKER = "[REDACTED: binary]"

DEFAULT_MAX_DEPTH = 16
DEFAULT_MAX_SIZE = 64 * 1024

DEFAULT_KEY_SUBSTRINGS: frozenset[str] = frozenset(
    {
        "password",
        "passwd",
        "passphrase",
        "secret",
        "token",
        "authorization",
        "authorisation",
        "cookie",
        "apikey",
        "accesskey",
        "privatekey",
        "credential",
        "creditcard",
        "cardnumber",
        "sessionid",
        "signature",
    }
)
"""A key is sensitive if, lowercased with every non-alphanumeric character removed, it
contains one of these (``x_api_key`` -> ``xapikey`` contains ``apikey``)."""

DEFAULT_KEY_WORDS: frozenset[str] = frozenset(
    {"ssn", "card", "pan", "cvv", "cvc", "cvv2", "pin", "pwd", "pass", "otp", "jwt"}
)
"""A key is also sensitive if one of its words is one of these. Words are split at
separators and case changes (``cardType`` -> ``card``, ``type``), so short names such as
``ssn`` or ``card`` do not match inside longer words (``classname``, ``discard``)."""

_KEY_CACHE_LIMIT = 4096
_KEY_CACHE_MAX_LEN = 128
_CLEAN_LIMIT = 4096
_CLEAN_MAX_LEN = 256
"""Strings up to this long found to hold nothing are remembered (per redactor, at most
`_CLEAN_LIMIT` of them), so header values and paths that recur are scanned once."""
_CARD_MIN = 2 * 10**12
"""The smallest integer that can be a card number (13 digits starting with 2)."""
_SHORT = 13
"""No recognised secret fits in fewer characters, except ``k=v`` pairs and addresses."""


def normalise_key(key: str) -> str:
    """``key`` lowercased, with everything but letters and digits removed."""
    if not key.isascii():
        import unicodedata

        key = unicodedata.normalize("NFKC", key)
    return "".join(ch for ch in key.lower() if ch.isalnum())


class _Patterns:
    """Every regular expression the redactor uses, compiled once on first use."""

    __slots__ = (
        "assignment",
        "assignment_gate",
        "aws_key_id",
        "aws_secret",
        "card",
        "dump_json",
        "email",
        "jwt",
        "load_json",
        "pem",
        "scheme",
        "unquote",
        "url_userinfo",
        "words",
    )

    def __init__(self) -> None:
        import json
        import re

        self.load_json, self.dump_json = _json_codec(json)
        self.unquote = _percent_decoder(re)
        self.pem = re.compile(
            r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----.*?"
            r"(?:-----END [A-Z0-9 ]*PRIVATE KEY[A-Z ]*-----|\Z)",
            re.DOTALL,
        )
        self.jwt = re.compile(r"eyJ[A-Za-z0-9_-]{4,}(?:\.[A-Za-z0-9_-]*){2,4}")
        self.scheme = re.compile(
            r"(?<![A-Za-z0-9])((?i:bearer|basic)[ \t]+)([A-Za-z0-9._~+/-]{8,}=*)"
        )
        self.url_userinfo = re.compile(
            r"(?<![A-Za-z0-9+.-])([A-Za-z][A-Za-z0-9+.-]{0,30}://[^\s/?#@:]*):([^\s/?#@]+)@"
        )
        # Matched against the lowercased text, without IGNORECASE, and written so that every
        # alternative starts with a literal: the engine then skips ahead to a possible first
        # letter, several times faster. Short names are checked for a word boundary against
        # the original text (`_SHORT_NAMES`).
        self.assignment = re.compile(
            r"((?:password|passwd|passphrase|pwd|secret|token|api-?key|api_key"
            r"|access-?key|access_key|private-?key|private_key|authorization|authorisation"
            r"|proxy-authori[sz]ation|cookie|set-cookie|credential|session-?id|session_id"
            r"|signature|pin|card|ssn|otp|cvv|cvc)[a-z0-9_.-]{0,40})"
            r"""((?:\\)*['"])?[ \t]*([:=])[ \t]*"""
        )
        self.assignment_gate = re.compile(
            r"pass|pwd|secret|token|key|authori|cookie|ssn|credential|session|signature"
            r"|cv[vc]|pin|card|otp"
        )
        self.aws_key_id = re.compile(
            r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"
        )
        self.aws_secret = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
        # 13 to 19 digits starting 2-6 (the IIN ranges of the card networks), the first four
        # together, then single spaces or dashes anywhere. The look-behind sits after the
        # first digit so that the search can skip ahead to a 2-6.
        self.card = re.compile(r"[2-6](?<![0-9][2-6])[0-9]{3}(?:[ -]?[0-9]){9,15}(?![0-9])")
        self.email = re.compile(
            r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}"
            r"(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![A-Za-z])"
        )
        self.words = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def _percent_decoder(re: ModuleType) -> Callable[[str], str]:
    """Percent-decoding as ``urllib.parse.unquote`` does it (UTF-8, bad bytes replaced),
    without importing ``urllib.parse``, which costs more than the rest of the runtime."""
    escape = re.compile(rb"%([0-9A-Fa-f]{2})")

    def byte(match: Match[bytes]) -> bytes:
        return bytes((int(match[1], 16),))

    def unquote(text: str) -> str:
        if "%" not in text:
            return text
        raw = text.encode("utf-8", "surrogatepass")
        decoded: str = escape.sub(byte, raw).decode("utf-8", "replace")
        return decoded

    return unquote


def _json_codec(
    json: ModuleType,
) -> tuple[Callable[[str], object], Callable[[object], str]]:
    """Parse and serialise functions for JSON inside strings.

    The C scanner and encoder of ``json`` are called directly where the interpreter has
    them: the public wrappers cost more than the work for the small documents found in event
    bodies. Parsing raises ValueError (or RecursionError) unless the whole text is one value.
    """
    decoder = json.JSONDecoder()
    scan_once = decoder.scan_once

    def load(text: str) -> object:
        try:
            value, end = scan_once(text, 0)
        except StopIteration:
            raise ValueError("not JSON") from None
        if end != len(text):
            raise ValueError("text after the JSON value")
        return value

    encoder = json.JSONEncoder(ensure_ascii=False, default=str)
    dump: Callable[[object], str] = encoder.encode
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is not None:
        try:
            # No circular-reference markers: a redacted document is a fresh, depth-bounded tree.
            c_encode = make(
                None, str, json.encoder.encode_basestring, None, ": ", ", ", False, False, True
            )
        except TypeError:
            c_encode = None
        if c_encode is not None:

            def dump(value: object) -> str:
                return "".join(c_encode(value, 0))

    return load, dump


_patterns: _Patterns | None = None


_MASKED_KEY: object = object()
"""What `Redactor._key` gives for a key whose values are masked whole (an identity test is
the cheapest check in the hot loop); how such a key is written out is in ``_masked_names``."""


def _compiled() -> _Patterns:
    global _patterns
    if _patterns is None:
        _patterns = _Patterns()
    return _patterns


def _luhn(digits: str) -> bool:
    total = 0
    double = False
    for ch in reversed(digits):
        value = ord(ch) - 48
        if double:
            value *= 2
            if value > 9:
                value -= 9
        total += value
        double = not double
    return total % 10 == 0


def _looks_like_credential(token: str) -> bool:
    """True unless ``token`` reads like an ordinary word (``Bearer authentication``)."""
    for ch in token[1:]:
        if not ch.islower():
            return True
    return not token[0].isalpha()


def _mixed_classes(candidate: str) -> bool:
    upper = lower = other = False
    for ch in candidate:
        if ch.isupper():
            upper = True
        elif ch.islower():
            lower = True
        else:
            other = True
    return upper and lower and other


_CLOSERS = {"[": "]", "{": "}", "(": ")"}
_BARE_END = frozenset(" \t\r\n&;,'\"}])")
_HEADER_NAMES = ("authori", "cookie", "set-cookie", "proxy-authori")
_SHORT_NAMES = ("pin", "card", "ssn", "otp", "pwd", "cvv", "cvc")


def _word_starts(text: str, position: int) -> bool:
    """Whether a word starts at ``position``: after a non-letter, or a camelCase hump."""
    if position == 0:
        return True
    before = text[position - 1]
    return not before.isalpha() or (before.islower() and text[position].isupper())


def _value_extent(text: str, start: int, header_line: bool) -> tuple[int, int, int]:
    """(end of the value, start and end of the part to mask) for a value at ``start``.

    A quoted value is masked inside its quotes; a bracketed one (a list or object written
    out) whole, brackets included; a header line (``Cookie: ...``) to the end of the line;
    anything else up to a space or a delimiter.
    """
    first = text[start]
    size = len(text)
    if first == "\\":
        # An escaped quote (JSON inside a string): the value ends at the same escape.
        opener_end = start
        while opener_end < size and text[opener_end] == "\\":
            opener_end += 1
        if opener_end < size and text[opener_end] in "\"'":
            opener = text[start : opener_end + 1]
            close = text.find(opener, opener_end + 1)
            if close == -1:
                close = size
            return min(close + len(opener), size), opener_end + 1, close
    if first == '"' or first == "'":
        position = start + 1
        while position < size:
            char = text[position]
            if char == "\\":
                position += 2
                continue
            if char == first or char in "\r\n":
                break
            position += 1
        end = min(position + 1, size)
        return end, start + 1, min(position, size)
    if first in _CLOSERS:
        depth = 0
        quote = ""
        position = start
        while position < size:
            char = text[position]
            if quote:
                if char == "\\":
                    position += 1
                elif char == quote:
                    quote = ""
            elif char == '"' or char == "'":
                quote = char
            elif char in "[{(":
                depth += 1
            elif char in "]})":
                depth -= 1
                if depth == 0:
                    return position + 1, start, position + 1
            position += 1
        return size, start, size
    position = start
    if header_line:
        while position < size and text[position] not in "\r\n\"'":
            position += 1
        end = position
        while end > start and text[end - 1] in " \t":
            end -= 1
        return end, start, end
    while position < size and text[position] not in _BARE_END:
        position += 1
    return position, start, position


class Redactor:
    """Redacts by key and by value; one instance per set of rules, safe to share.

    Parameters
    ----------
    mask:
        ``"full"`` writes `MASK`; ``"partial"`` keeps the last ``keep_last`` characters of
        secrets at least three times that long (``***1111``); ``"hmac"`` writes
        ``hmac:<16 hex digits>``, the start of HMAC-SHA256 of the secret under ``hmac_key``,
        so equal secrets can be correlated without being readable.
    hmac_key:
        Required with ``mask="hmac"``; keep it out of the logs and the code.
    extra_keys:
        More key names to treat as sensitive (matched like `DEFAULT_KEY_SUBSTRINGS`).
    allow_keys:
        Key names never masked by key (their values are still scanned by value).
    key_substrings, key_words:
        Replace the defaults entirely.
    emails:
        Also mask e-mail addresses found in values.
    parse_json:
        Parse strings holding a JSON object or array and redact inside them.
    max_depth:
        Containers nested deeper than this are replaced by `DEPTH_MARKER`.
    max_size:
        The work allowed per call: one unit per container entry, plus the length of each
        string long enough to be scanned. What is left when it is spent becomes
        `SIZE_MARKER`.
    """

    __slots__ = (
        "_allow",
        "_clean",
        "_hmac_key",
        "_keep_last",
        "_key_cache",
        "_masked_names",
        "_max_depth",
        "_max_size",
        "_style",
        "_substrings",
        "_words",
        "emails",
        "parse_json",
    )

    def __init__(
        self,
        *,
        mask: MaskStyle = "full",
        hmac_key: bytes | None = None,
        keep_last: int = 4,
        extra_keys: Iterable[str] = (),
        allow_keys: Iterable[str] = (),
        key_substrings: Iterable[str] = DEFAULT_KEY_SUBSTRINGS,
        key_words: Iterable[str] = DEFAULT_KEY_WORDS,
        emails: bool = False,
        parse_json: bool = True,
        max_depth: int = DEFAULT_MAX_DEPTH,
        max_size: int = DEFAULT_MAX_SIZE,
    ) -> None:
        if mask not in ("full", "partial", "hmac"):
            raise ValueError(f"mask must be 'full', 'partial' or 'hmac', not {mask!r}")
        if mask == "hmac" and not hmac_key:
            raise ValueError("mask='hmac' needs a non-empty hmac_key")
        if keep_last < 0 or max_depth < 1 or max_size < 1:
            raise ValueError("keep_last must be >= 0, max_depth and max_size >= 1")
        self._style = mask
        self._hmac_key = bytes(hmac_key) if hmac_key else b""
        self._keep_last = keep_last
        substrings = {normalise_key(key) for key in key_substrings}
        substrings.update(normalise_key(key) for key in extra_keys)
        substrings.discard("")
        self._substrings = tuple(sorted(substrings))
        self._words = frozenset(word.lower() for word in key_words)
        self._allow = frozenset(normalise_key(key) for key in allow_keys)
        self.emails = emails
        self.parse_json = parse_json
        self._max_depth = max_depth
        self._max_size = max_size
        self._key_cache: dict[object, object] = {}
        self._masked_names: dict[object, object] = {}
        self._clean: set[str] = set()

    def __repr__(self) -> str:
        return (
            f"Redactor(mask={self._style!r}, emails={self.emails}, "
            f"max_depth={self._max_depth}, max_size={self._max_size})"
        )

    # Public API -------------------------------------------------------------------------

    def redact(self, value: object) -> object:
        """A redacted copy of ``value``; ``value`` itself is left untouched.

        Dicts, lists, tuples and sets keep their type; other mappings become dicts; bytes
        are decoded as UTF-8 (or replaced by a marker); any other object is redacted as its
        ``str()``. Numbers, booleans and ``None`` are kept, except integers shaped like card
        numbers.
        """
        return self._value(value, 0, [self._max_size])

    def redact_dict(self, mapping: Mapping[str, object]) -> dict[str, object]:
        """`redact` for a mapping, typed as one."""
        result = self._value(dict(mapping), 0, [self._max_size])
        if type(result) is dict:
            return result
        return {"redacted": result}

    def redact_text(self, text: str) -> str:
        """``text`` with every secret-shaped part masked (values only; no key context)."""
        return self._string(text, 0, [self._max_size])

    def is_sensitive_key(self, key: str) -> bool:
        """Whether a value stored under ``key`` is masked whole."""
        return self._key(key) is _MASKED_KEY

    def mask(self, secret: str) -> str:
        """The mask this redactor writes in place of ``secret``."""
        if self._style == "full":
            return MASK
        if self._style == "partial":
            keep = self._keep_last
            if keep and len(secret) >= 3 * keep:
                return MASK + secret[-keep:]
            return MASK
        import hmac

        digest = hmac.digest(self._hmac_key, secret.encode("utf-8", "surrogatepass"), "sha256")
        return "hmac:" + digest.hex()[:16]

    # Walking ----------------------------------------------------------------------------
    #
    # Size accounting: a container charges one unit per entry when it is entered, which
    # covers keys, scalars and short strings; a string long enough to be scanned charges its
    # length. When the budget runs out inside a container, the entries left are dropped and
    # one marker stands for them.

    def _key(self, key: object) -> object:
        """How a mapping key is written out, or `_MASKED_KEY` if its values are masked."""
        if type(key) is not str:
            return key
        normal = normalise_key(key)
        sensitive = False
        if normal not in self._allow:
            for part in self._substrings:
                if part in normal:
                    sensitive = True
                    break
            else:
                words = self._words
                if words:
                    for word in _compiled().words.findall(key):
                        if word.lower() in words:
                            sensitive = True
                            break
        shown = self._scan(key) if len(key) >= 5 else key
        entry: object = shown
        if sensitive:
            entry = _MASKED_KEY
            if shown != key:
                self._masked_names[key] = shown
        if len(key) <= _KEY_CACHE_MAX_LEN:
            cache = self._key_cache
            if len(cache) >= _KEY_CACHE_LIMIT:
                cache.clear()
                self._masked_names.clear()
            cache[key] = entry
        return entry

    def _masked_name(self, key: object) -> object:
        return self._masked_names.get(key, key)

    def _value(self, value: object, depth: int, budget: list[int]) -> object:
        if type(value) is str:
            return self._string(value, depth, budget)
        if type(value) is dict:
            return self._dict(value, depth, budget)
        if type(value) is list:
            return self._list(value, depth, budget)
        if value is None or type(value) is bool or type(value) is float:
            return value
        if type(value) is int:
            return self._int(value)
        if type(value) is tuple:
            listed = self._list(value, depth, budget)
            return tuple(listed) if type(listed) is list else listed
        if isinstance(value, (set, frozenset)):
            listed = self._list(list(value), depth, budget)
            return type(value)(listed) if type(listed) is list else listed
        if isinstance(value, (bytes, bytearray, memoryview)):
            try:
                text = bytes(value).decode("utf-8")
            except UnicodeDecodeError:
                return BINARY_MARKER
            return self._string(text, depth, budget)
        if isinstance(value, str):
            return self._string(str(value), depth, budget)
        if isinstance(value, (bool, float)):
            return value
        if isinstance(value, int):
            return self._int(int(value))
        items = getattr(value, "items", None)
        if callable(items):
            try:
                as_dict = dict(items())
            except (TypeError, ValueError):
                as_dict = None
            if as_dict is not None:
                return self._dict(as_dict, depth, budget)
        if isinstance(value, (list, tuple)):
            return self._list(list(value), depth, budget)
        return self._string(str(value), depth, budget)

    def _int(self, value: int) -> object:
        if _CARD_MIN <= value < 7 * 10**18:
            digits = str(value)
            if digits[0] in "23456" and _luhn(digits):
                return self.mask(digits)
        return value

    def _dict(self, mapping: dict[object, object], depth: int, budget: list[int]) -> object:
        depth += 1
        if depth > self._max_depth:
            return DEPTH_MARKER
        budget[0] -= len(mapping)
        if budget[0] < 0:
            budget[0] += len(mapping)
            return self._dict_truncated(mapping, depth, budget)
        out: dict[object, object] = {}
        known = self._key_cache.get
        clean = self._clean
        masked_key = _MASKED_KEY
        full = self._style == "full"
        entries = iter(mapping.items())
        for key, item in entries:
            shown = known(key)
            if shown is None:
                shown = self._key(key)
            kind = type(item)  # one call; the identity tests below are nearly free
            if shown is masked_key:
                name = self._masked_names.get(key, key)
                if kind is str and full:
                    out[name] = MASK
                    continue
                out[name] = self._masked(item, depth, budget)
            elif kind is str:
                # The common cases, inlined: a string already found clean needs no second
                # look, and a short one with none of = : @ holds nothing.
                if item in clean:
                    out[shown] = item
                    continue
                if (
                    len(item) < _SHORT  # type: ignore[arg-type]
                    and "=" not in item  # type: ignore[operator]
                    and ":" not in item  # type: ignore[operator]
                    and "@" not in item  # type: ignore[operator]
                ):
                    out[shown] = item
                    if len(clean) < _CLEAN_LIMIT:
                        clean.add(item)  # type: ignore[arg-type]
                    continue
                out[shown] = self._fresh_string(item, depth, budget)  # type: ignore[arg-type]
            elif item is None or kind is bool or kind is float:
                out[shown] = item
                continue
            elif kind is dict:
                out[shown] = self._dict(item, depth, budget)  # type: ignore[arg-type]
            elif kind is list:
                out[shown] = self._list(item, depth, budget)  # type: ignore[arg-type]
            elif kind is int and item < _CARD_MIN:  # type: ignore[operator]
                out[shown] = item
                continue
            else:
                out[shown] = self._value(item, depth, budget)
            if budget[0] < 0:
                break
        else:
            return out
        dropped = sum(1 for _ in entries)
        if dropped:
            out[SIZE_MARKER] = dropped
        return out

    def _dict_truncated(
        self, mapping: dict[object, object], depth: int, budget: list[int]
    ) -> dict[object, object]:
        out: dict[object, object] = {}
        dropped = 0
        for key, item in mapping.items():
            if budget[0] <= 0:
                dropped += 1
                continue
            budget[0] -= 1
            shown = self._key(key)
            if shown is _MASKED_KEY:
                out[self._masked_name(key)] = self._masked(item, depth, budget)
            else:
                out[shown] = self._value(item, depth, budget)
        if dropped:
            out[SIZE_MARKER] = dropped
        return out

    def _list(
        self, items: list[object] | tuple[object, ...], depth: int, budget: list[int]
    ) -> object:
        depth += 1
        if depth > self._max_depth:
            return DEPTH_MARKER
        budget[0] -= len(items)
        if budget[0] < 0:
            budget[0] += len(items)
            return self._list_truncated(items, depth, budget)
        out: list[object] = []
        clean = self._clean
        for item in items:
            if type(item) is str and (
                item in clean
                or (len(item) < _SHORT and "=" not in item and ":" not in item and "@" not in item)
            ):
                out.append(item)
                continue
            out.append(self._value(item, depth, budget))
            if budget[0] < 0:
                if len(out) < len(items):
                    out.append(SIZE_MARKER)
                break
        return out

    def _list_truncated(
        self, items: list[object] | tuple[object, ...], depth: int, budget: list[int]
    ) -> list[object]:
        out: list[object] = []
        for item in items:
            if budget[0] <= 0:
                out.append(SIZE_MARKER)
                break
            budget[0] -= 1
            out.append(self._value(item, depth, budget))
        return out

    def _masked(self, value: object, depth: int, budget: list[int]) -> object:
        """Everything under a sensitive key: every leaf masked, the shape kept."""
        if type(value) is str:
            budget[0] -= len(value)
            return SIZE_MARKER if budget[0] < 0 else self.mask(value)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return self.mask(str(value))
        if isinstance(value, (bytes, bytearray)):
            return self.mask(bytes(value).hex())
        if isinstance(value, (list, tuple, set, frozenset)):
            depth += 1
            budget[0] -= len(value)
            if depth > self._max_depth:
                return DEPTH_MARKER
            if budget[0] < 0:
                return SIZE_MARKER
            if self._style == "full":
                return [
                    MASK if type(item) is str else self._masked(item, depth, budget)
                    for item in value
                ]
            return [self._masked(item, depth, budget) for item in value]
        items = getattr(value, "items", None)
        if callable(items):
            entries = list(items())
            depth += 1
            budget[0] -= len(entries)
            if depth > self._max_depth:
                return DEPTH_MARKER
            if budget[0] < 0:
                return SIZE_MARKER
            masked: dict[object, object] = {}
            for key, item in entries:
                shown = self._key(key)
                if shown is _MASKED_KEY:
                    shown = self._masked_name(key)
                masked[shown] = self._masked(item, depth, budget)
            return masked
        return self.mask(str(value))

    def _string(self, text: str, depth: int, budget: list[int]) -> str:
        if len(text) < 5:
            return text
        if len(text) <= _CLEAN_MAX_LEN and text in self._clean:
            budget[0] -= len(text)
            return SIZE_MARKER if budget[0] < 0 else text
        return self._fresh_string(text, depth, budget)

    def _fresh_string(self, text: str, depth: int, budget: list[int]) -> str:
        """`_string` for a text not known to be clean."""
        size = len(text)
        budget[0] -= size
        if budget[0] < 0:
            return SIZE_MARKER
        if self.parse_json:
            first = text[0]
            if first in " \t\r\n":
                stripped = text.strip()
                first = stripped[:1]
            else:
                stripped = text
            if (first == "{" or first == "[") and stripped[-1] in "}]":
                parsed = self._json(stripped, depth, budget, size)
                if parsed is not None:
                    return parsed
        result = self._scan(text)
        if result is text and size <= _CLEAN_MAX_LEN:
            clean = self._clean
            if len(clean) >= _CLEAN_LIMIT:
                clean.clear()
            clean.add(text)
        return result

    def _json(self, text: str, depth: int, budget: list[int], size: int) -> str | None:
        """Redacted JSON text for a string holding JSON, or None if it does not parse."""
        try:
            parsed = _compiled().load_json(text)
        except RecursionError:
            return DEPTH_MARKER
        except ValueError:
            return None
        if type(parsed) is not dict and type(parsed) is not list:
            return None
        budget[0] += size  # the parsed document is charged instead of the raw text
        redacted = self._value(parsed, depth, budget)
        if type(redacted) is str:  # a marker for the whole document
            return redacted
        dumped: str = _compiled().dump_json(redacted)
        return dumped

    def _scan(self, text: str) -> str:
        """Mask every secret-shaped part of ``text``."""
        patterns = _patterns if _patterns is not None else _compiled()
        if len(text) < _SHORT:
            if "=" in text or ":" in text or not text.isascii():
                text = self._assignments(text, patterns)
            if "@" in text:
                text = patterns.url_userinfo.sub(self._userinfo_match, text)
                if self.emails:
                    text = patterns.email.sub(self._whole_match, text)
            return text
        if "%" in text:
            decoded = patterns.unquote(text)
            if decoded != text:
                masked = self._scan(decoded)
                if masked != decoded:  # written decoded: the encoded form would hide it
                    return masked
        original = text
        lowered = text.lower()
        if "PRIVATE KEY" in text:
            text = patterns.pem.sub(self._whole_match, text)
        if "eyJ" in text:
            text = patterns.jwt.sub(self._whole_match, text)
        if "bearer" in lowered or "basic" in lowered:
            text = patterns.scheme.sub(self._scheme_match, text)
        if "@" in text:
            text = patterns.url_userinfo.sub(self._userinfo_match, text)
            if self.emails:
                text = patterns.email.sub(self._whole_match, text)
        if "=" in text or ":" in text or not text.isascii():
            text = self._assignments(text, patterns, lowered if text is original else None)
        if "IA" in text or "CCA" in text:
            text = patterns.aws_key_id.sub(self._whole_match, text)
        if len(text) >= 40:
            text = patterns.aws_secret.sub(self._aws_secret_match, text)
        return patterns.card.sub(self._card_match, text)

    def _assignments(self, text: str, patterns: _Patterns, lowered: str | None = None) -> str:
        """Mask the values of ``password=...``, ``"token": "..."``, ``Cookie: ...`` and the
        like. Text in other scripts is also checked in its NFKC form (full-width letters)."""
        if not text.isascii():
            import unicodedata

            folded = unicodedata.normalize("NFKC", text)
            if folded != text and ("=" in folded or ":" in folded):
                masked = self._assignments(folded, patterns)
                if masked != folded:
                    return masked
            if "=" not in text and ":" not in text:
                return text
        if lowered is None:
            lowered = text.lower()
        if len(lowered) != len(text) or not patterns.assignment_gate.search(lowered):
            return text
        pieces: list[str] = []
        done = 0
        for match in patterns.assignment.finditer(lowered):
            start = match.end()
            if match.start() < done or start >= len(text):
                continue
            if match[1].startswith(_SHORT_NAMES) and not _word_starts(text, match.start()):
                continue
            header_line = match[3] == ":" and not match[2] and match[1].startswith(_HEADER_NAMES)
            end, inner_start, inner_end = _value_extent(text, start, header_line)
            value = text[inner_start:inner_end]
            if not value or value.startswith((MASK, "hmac:")):
                continue
            pieces.append(text[done:inner_start])
            pieces.append(self.mask(value))
            pieces.append(text[inner_end:end])
            done = end
        if not pieces:
            return text
        pieces.append(text[done:])
        return "".join(pieces)

    # re.sub callbacks -------------------------------------------------------------------

    def _whole_match(self, match: Match[str]) -> str:
        return self.mask(match[0])

    def _scheme_match(self, match: Match[str]) -> str:
        token = match[2]
        if not _looks_like_credential(token):
            return match[0]
        return match[1] + self.mask(token)

    def _userinfo_match(self, match: Match[str]) -> str:
        return f"{match[1]}:{self.mask(match[2])}@"

    def _aws_secret_match(self, match: Match[str]) -> str:
        candidate = match[0]
        return self.mask(candidate) if _mixed_classes(candidate) else candidate

    def _card_match(self, match: Match[str]) -> str:
        candidate = match[0]
        digits = candidate.replace(" ", "").replace("-", "")
        if 13 <= len(digits) <= 19 and _luhn(digits):
            return self.mask(digits)
        return candidate


_default: Redactor | None = None


def default_redactor() -> Redactor:
    """The shared redactor with default rules (full masks, no e-mail masking)."""
    global _default
    if _default is None:
        _default = Redactor()
    return _default


def redact(value: object, redactor: Redactor | None = None) -> object:
    """A redacted copy of ``value`` (see `Redactor.redact`); ``value`` is never changed."""
    return (redactor or default_redactor()).redact(value)


def redact_text(text: str, redactor: Redactor | None = None) -> str:
    """``text`` with every secret-shaped part masked (see `Redactor.redact_text`)."""
    return (redactor or default_redactor()).redact_text(text)


def redacts(
    redactor: Redactor | None = None,
) -> Callable[[Callable[_P, object]], Callable[_P, object]]:
    """Decorator form of `redact`: the decorated function's result comes back redacted.

    ```python
    @redacts()
    def describe(event: dict[str, object]) -> dict[str, object]:
        return {"event": event, "note": "for the log"}
    ```
    """

    def decorate(function: Callable[_P, object]) -> Callable[_P, object]:
        import functools

        @functools.wraps(function)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> object:
            return redact(function(*args, **kwargs), redactor)

        return wrapper

    return decorate
