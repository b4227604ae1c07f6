"""Secrets written into templates: environment variables, stage variables, parameters.

A value is a secret by its format (an AWS access key ID, a GitHub or Slack token, a
private key, a JWT, a connection string with a password), by the name it is stored
under (`DB_PASSWORD`, `stripeApiKey`) or, more weakly, by its randomness. A reference
to a secret (`{{resolve:secretsmanager:...}}`, an SSM parameter name or path, an ARN, an
unresolved variable) is the fix, never a finding. Messages never carry a secret: they
show at most its first characters and its length, and fingerprints are computed from
the variable's name and the kind of secret, never from the value.
"""

from __future__ import annotations

import functools
import itertools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdashield.checks._rule import Hit, rule
from lambdashield.checks.functions import ApplicationView, FunctionView
from lambdashield.model import Application, Confidence, Severity, TemplateValue, Unresolved

__all__ = [
    "RULES",
    "SecretHint",
    "connection_password",
    "detect",
    "high_entropy",
    "is_placeholder",
    "is_reference",
    "known_format",
    "mask",
    "secret_reference",
    "sensitive_name",
    "shannon_entropy",
]


@dataclass(frozen=True, slots=True)
class SecretHint:
    """Why a value looks like a secret."""

    label: str
    """How messages name it: `AWS access key ID`, `password (by its name)`."""
    code: str
    """Stable identifier of the reason; feeds the fingerprint, never the value."""
    weak: bool = False
    """Matched by randomness alone: possibly an identifier."""


@dataclass(frozen=True, slots=True)
class _Format:
    id: str
    label: str
    pattern: re.Pattern[str]


@dataclass(frozen=True, slots=True)
class _Data:
    formats: tuple[_Format, ...]
    aws_secret_key: re.Pattern[str]
    words: frozenset[str]
    pairs: tuple[tuple[str, str], ...]
    reference_words: frozenset[str]
    reference_anywhere: frozenset[str]
    placeholder: re.Pattern[str]
    entropy_length: int
    entropy_bits: float
    entropy_class_changes: float


@functools.cache
def _data() -> _Data:
    path = Path(__file__).with_name("data") / "secret_formats.json"
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return _Data(
        formats=tuple(
            _Format(f["id"], f["label"], re.compile(f["pattern"])) for f in raw["formats"]
        ),
        aws_secret_key=re.compile(raw["aws_secret_key_shape"]),
        words=frozenset(raw["sensitive_words"]),
        pairs=tuple((a, b) for a, b in raw["sensitive_pairs"]),
        reference_words=frozenset(raw["reference_words"]),
        reference_anywhere=frozenset(raw["reference_anywhere"]),
        placeholder=re.compile(raw["placeholders"], re.IGNORECASE),
        entropy_length=int(raw["entropy"]["min_length"]),
        entropy_bits=float(raw["entropy"]["min_bits_per_char"]),
        entropy_class_changes=float(raw["entropy"]["min_class_changes_per_char"]),
    )


_DYNAMIC_REFERENCE = re.compile(r"^\{\{resolve:[a-z-]+:[^}]+\}\}$")
_SSM_PATH = re.compile(r"^/[A-Za-z0-9_.\-/]+$")
_WHOLE_VARIABLE = re.compile(r"^\$\{[^}]*\}$")
_UNRESOLVED_PART = re.compile(r"\$\{[^}]*\}|\{\{resolve:[^}]*\}\}")
_URL_PASSWORD = re.compile(r"\b[a-z][a-z0-9+.\-]*://[^\s:/@]*:([^\s@/]+)@", re.IGNORECASE)
_KEY_VALUE_PASSWORD = re.compile(
    r"(?:^|[;?&\s])(?:password|passwd|pwd)\s*=\s*([^;&\s]+)", re.IGNORECASE
)
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_TOKEN_CHARS = re.compile(r"^[A-Za-z0-9+/=_-]+$")
_CAMEL = re.compile(r"([a-z0-9])([A-Z])")
_ACRONYM = re.compile(r"([A-Z]+)([A-Z][a-z])")
_AWS_KEY_ID = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])")

_SECRET_REFERENCES = (
    (
        re.compile(r"\$\{[A-Za-z0-9]+\.SecretAccessKey\}|aws_iam_access_key\.[\w-]+\.secret\b"),
        "an IAM user's secret access key",
    ),
    (
        re.compile(r"aws_iam_access_key\.[\w-]+\.ses_smtp_password_v4\b"),
        "an SES SMTP password",
    ),
    (re.compile(r"random_password\.[\w-]+\.result\b"), "a generated password"),
)


def secret_reference(expression: str) -> tuple[str, str] | None:
    """`(label, reference)` when a value is set from an attribute that is itself a secret:
    an access key's secret (`!GetAtt Key.SecretAccessKey`, `aws_iam_access_key.x.secret`)
    or a generated password (`random_password.db.result`). The value is not in the
    template, but it is written in clear text into the function's configuration."""
    for pattern, label in _SECRET_REFERENCES:
        found = pattern.search(expression)
        if found:
            return label, found.group(0)
    return None


def is_reference(text: str) -> bool:
    """A pointer to a secret rather than the secret: a dynamic reference, an ARN, an SSM
    parameter path, or a variable the loader could not resolve."""
    value = text.strip()
    return bool(
        _DYNAMIC_REFERENCE.match(value)
        or value.startswith("arn:")
        or _SSM_PATH.match(value)
        or _WHOLE_VARIABLE.match(value)
    )


def is_placeholder(text: str) -> bool:
    """Empty, a flag, or an obvious stand-in (`<password>`, `CHANGE_ME`, `xxxx`)."""
    value = text.strip()
    return not value or bool(_data().placeholder.match(value))


def _tokens(name: str) -> list[str]:
    spaced = _ACRONYM.sub(r"\1 \2", _CAMEL.sub(r"\1 \2", name))
    return [t.lower() for t in re.split(r"[^A-Za-z0-9]+", spaced) if t]


def _reference_name(tokens: list[str]) -> bool:
    data = _data()
    return bool(tokens) and (
        tokens[-1] in data.reference_words or bool(data.reference_anywhere.intersection(tokens))
    )


def sensitive_name(name: str) -> str | None:
    """The secret-like word in a variable name (`password` in `DB_PASSWORD`), or `None`.

    Names that describe where a secret is kept rather than the secret itself
    (`DB_PASSWORD_PARAM`, `SECRET_ARN`, `API_KEY_SSM_NAME`, `TOKEN_TTL`) are not
    sensitive.
    """
    tokens = _tokens(name)
    data = _data()
    if not tokens or name.strip().upper() == "PWD":
        return None
    if _reference_name(tokens):
        return None
    for token in tokens:
        if token in data.words:
            return token
    for first, second in itertools.pairwise(tokens):
        if (first, second) in data.pairs or first + second in data.words:
            return f"{first} {second}"
    return None


def known_format(text: str) -> tuple[str, str] | None:
    """`(id, label)` of the first known token format found in the text."""
    for fmt in _data().formats:
        if fmt.pattern.search(text):
            return fmt.id, fmt.label
    return None


def connection_password(text: str) -> bool:
    """Whether a connection string or URL carries a literal password
    (`postgres://app:s3cret@db:5432/orders`, `Server=db;Password=s3cret`)."""
    for pattern in (_URL_PASSWORD, _KEY_VALUE_PASSWORD):
        for match in pattern.finditer(text):
            password = match.group(1)
            if not _UNRESOLVED_PART.search(password) and not is_placeholder(password):
                return True
    return False


def shannon_entropy(text: str) -> float:
    """Bits per character of the text's own character distribution."""
    if not text:
        return 0.0
    counts = Counter(text)
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def _class_changes(text: str) -> float:
    """How often consecutive characters switch between upper case, lower case, digits and
    symbols, per character: about 0.6 for random keys, under 0.3 for `CamelCase2024`
    names."""
    classes = [0 if c.isupper() else 1 if c.islower() else 2 if c.isdigit() else 3 for c in text]
    changes = sum(a != b for a, b in itertools.pairwise(classes))
    return changes / max(len(text) - 1, 1)


def high_entropy(text: str) -> bool:
    """A long, single-token, mixed-case alphanumeric string random enough to be a key.

    Lower-case or upper-case only identifiers (Cognito client IDs, hosted zone IDs),
    hexadecimal digests, UUIDs, `CamelCase` names with digits and generated names such as
    `orders-prod-Bucket-1A2B3C4D5E6F` (no long unbroken part) are left out: they are
    usually identifiers.
    """
    data = _data()
    value = text.strip()
    longest_word = max((len(part) for part in re.split(r"[-_]", value)), default=0)
    return (
        longest_word >= data.entropy_length
        and bool(_TOKEN_CHARS.match(value))
        and not _UUID.match(value)
        and any(c.islower() for c in value)
        and any(c.isupper() for c in value)
        and sum(c.isdigit() for c in value) >= 2
        and shannon_entropy(value) >= data.entropy_bits
        and _class_changes(value) >= data.entropy_class_changes
    )


def detect(name: str, value: object, *, near_key_id: bool = False) -> SecretHint | None:
    """Why `name = value` looks like a plaintext secret, or `None`.

    `near_key_id` says an AWS access key ID sits beside it (in the same environment), so
    a 40-character value of the right shape is its secret key.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or is_reference(text):
        return None
    found = known_format(text)
    if found is not None:
        return SecretHint(found[1], found[0])
    listed = _tokens(name)
    tokens = set(listed)
    key_context = near_key_id or bool({"secret", "aws", "secretkey"} & tokens)
    mixed_case = any(c.islower() for c in text) and any(c.isupper() for c in text)
    if key_context and mixed_case and _data().aws_secret_key.match(text):
        return SecretHint("AWS secret access key", "aws-secret-access-key")
    if connection_password(text):
        return SecretHint("connection string with a password", "connection-string")
    word = sensitive_name(name)
    if (
        word is not None
        and len(text) >= 4
        and not is_placeholder(text)
        and not _UNRESOLVED_PART.search(text)
    ):
        return SecretHint(f"{word} (by its name)", f"name:{word.replace(' ', '-')}")
    if word is None and not _reference_name(listed) and high_entropy(text):
        return SecretHint("random-looking string", "entropy", weak=True)
    return None


def mask(value: str) -> str:
    """How a message shows a secret: its first characters and its length, no more.

    Four characters for long values (enough to tell `AKIA` from `ghp_`), two for
    shorter ones and none below eight, so a short password is never half shown.
    """
    size = len(value)
    shown = value[:4] if size >= 12 else value[:2] if size >= 8 else ""
    return f"`{shown}...`, {size} characters" if shown else f"{size} characters"


def _no_echo_defaults(values: Iterable[TemplateValue]) -> list[tuple[str, str]]:
    found = []
    for tv in values:
        if tv.kind != "parameter-default" or not tv.no_echo:
            continue
        text = str(tv.value).strip() if isinstance(tv.value, (str, int)) else ""
        if len(text) >= 4 and not is_placeholder(text) and not is_reference(text):
            found.append((tv.name, text))
    return found


def _terraform(application: Application) -> bool:
    return application.origin.resource_type.startswith("terraform")


def _secret_parameter(application: Application) -> str:
    """What the format calls a parameter it keeps out of logs and consoles."""
    return "`sensitive` variable" if _terraform(application) else "`NoEcho` parameter"


def _remove_default(application: Application) -> str:
    if _terraform(application):
        return (
            "remove the default and pass the value at apply time, or read the secret from "
            "Secrets Manager at run time"
        )
    return (
        "remove the default and pass a `{{resolve:secretsmanager:...}}` reference, or read "
        "the secret from Secrets Manager at run time"
    )


def _a(label: str) -> str:
    return f"an {label}" if label[:1].lower() in "aeiou" else f"a {label}"


_WEAK = "it matched only by its randomness and may be an identifier"
_STORE = "store it in Secrets Manager or SSM Parameter Store (SecureString) and read it at run time"


@rule(
    id="LS-SEC-001",
    title="Plaintext secret in function environment variables",
    severity=Severity.HIGH,
    confidence=Confidence.MEDIUM,
    cwe=798,
    since="0.1.0",
    tags=("secrets", "environment"),
)
def secret_in_environment(view: FunctionView) -> Iterator[Hit]:
    """Flags environment variables that hold a secret in plain text: a known token
    format (AWS access keys, GitHub, GitLab, Slack, Stripe, Google, npm, SendGrid, JWTs,
    private keys), a connection string with a password, a value stored under a secret's
    name (`DB_PASSWORD`, `apiKey`), a `NoEcho` parameter's default, an access key's secret
    or a generated password set by reference (`!GetAtt Key.SecretAccessKey`,
    `random_password.db.result`), or, one severity lower, a long random-looking string.

    References are not findings: `{{resolve:secretsmanager:...}}`, SSM parameter names
    and paths, ARNs and values that depend on the deployment.

    ## Why it matters
    The value is in the template, so in the repository, its history, every fork and
    every CI log that prints it; after deployment anyone with
    `lambda:GetFunctionConfiguration` (a read-only role, a support engineer) reads it in
    clear text. A leaked credential stays valid until someone rotates it, and nobody
    rotates what they do not know has leaked.

    ## Fix
    Keep the secret in AWS Secrets Manager or SSM Parameter Store (`SecureString`), put
    only its name in the environment (`DB_SECRET_ARN`) and read it at run time with the
    Parameters and Secrets Lambda extension or the SDK; grant
    `secretsmanager:GetSecretValue` on that one secret. Rotate the exposed value: it is
    in the repository history.
    """
    environment = view.function.environment
    near_key_id = any(isinstance(v.value, str) and _AWS_KEY_ID.search(v.value) for v in environment)
    defaults = _no_echo_defaults(view.application.values)
    for variable in environment:
        value = variable.value
        expression = value.expression if isinstance(value, Unresolved) else value
        reference = secret_reference(expression) if isinstance(expression, str) else None
        if reference is not None:
            label, source = reference
            yield Hit(
                variable.pointer,
                f"`{variable.name}` is set from `{source}`, {label}: the value is stored in "
                "clear text in the function's configuration (and in the deployment's state); "
                "keep it in Secrets Manager and read it at run time",
                f"{variable.name}:reference:{source}",
            )
            continue
        if not isinstance(value, str):
            continue
        parameter = next((n for n, d in defaults if d in value), None)
        if parameter is not None or variable.no_echo_default:
            kind = _secret_parameter(view.application)
            source = f"the {kind} `{parameter}`" if parameter else f"a {kind}"
            yield Hit(
                variable.pointer,
                f"`{variable.name}` takes the default of {source} ({mask(value.strip())}): "
                "the secret is written in the template and readable in the function's "
                f"configuration; {_remove_default(view.application)}",
                f"{variable.name}:no-echo",
            )
            continue
        hint = detect(variable.name, value, near_key_id=near_key_id)
        if hint is None:
            continue
        yield Hit(
            variable.pointer,
            f"`{variable.name}` holds {_a(hint.label)} in plain text ({mask(value.strip())}); "
            f"{_STORE}",
            f"{variable.name}:{hint.code}",
            lowered_because=_WEAK if hint.weak else None,
        )


_KINDS = {
    "parameter-default": "the default of parameter",
    "stage-variable": "stage variable",
    "output": "output",
    "tag": "tag",
    "local": "local value",
}


@rule(
    id="LS-SEC-002",
    title="Plaintext secret in stage variables, parameter defaults or other template values",
    severity=Severity.HIGH,
    confidence=Confidence.MEDIUM,
    cwe=798,
    since="0.1.0",
    tags=("secrets",),
)
def secret_in_template_value(view: ApplicationView) -> Iterator[Hit]:
    """Flags secrets written as API stage variables, parameter defaults, outputs or
    tags, by the same formats and names as `LS-SEC-001`, and every `NoEcho` parameter
    that has a default value.

    ## Why it matters
    `NoEcho` only hides a parameter in the console and API responses; a default is
    still written in the template, in the repository and its history. Stage variables
    are returned by `apigateway:GetStage` to anyone with read access to the API, and
    outputs and tags are readable across the account.

    ## Fix
    Remove the default of secret parameters and pass the value at deploy time, or
    better, replace the parameter with a dynamic reference
    (`{{resolve:secretsmanager:orders/db:SecretString:password}}`). Keep secrets out of
    stage variables: have the backend read them from Secrets Manager. Rotate any value
    that was committed.
    """
    for value in view.application.values:
        where = f"{_KINDS.get(value.kind, value.kind.replace('-', ' '))} `{value.name}`"
        if value.kind == "parameter-default" and value.no_echo:
            where = f"{_secret_parameter(view.application)} `{value.name}`"
            text = str(value.value).strip() if isinstance(value.value, (str, int)) else ""
            if text and not is_placeholder(text) and not is_reference(text):
                yield Hit(
                    value.pointer,
                    f"{where} has a default value ({mask(text)}): the secret is written in "
                    f"the template; {_remove_default(view.application)}",
                    f"{value.kind}:{value.name}:no-echo",
                )
            continue
        hint = detect(value.name, value.value)
        if hint is None or not isinstance(value.value, str):
            continue
        yield Hit(
            value.pointer,
            f"{where} holds {_a(hint.label)} in plain text ({mask(value.value.strip())}); {_STORE}",
            f"{value.kind}:{value.name}:{hint.code}",
            lowered_because=_WEAK if hint.weak else None,
        )


RULES = (secret_in_environment, secret_in_template_value)
