"""Logging: the raw event, secrets or personal data written to the function's logs.

Every rule runs over a `HandlerView`, like the code rules. A log sink is `print`, the
`logging` functions, `sys.stdout/stderr.write`, and the methods of a logger (made by
`logging.getLogger`, Powertools `Logger`, `structlog`, or any object named like one:
`logger`, `log`, `LOGGER`); Powertools' `@logger.inject_lambda_context(log_event=True)`
logs every event. Arguments and `extra=` fields both count.

What reaches them is followed as in `checks/code.py`: the event and the context whole
(`print(event)`, `json.dumps(event)`, `event["headers"]`, not a single field of them);
secrets from environment variables with a secret's name, Secrets Manager, decrypted SSM
parameters, KMS `decrypt`, fields named like credentials (`password`, `Authorization`)
and literals in a known token format; personal data from fields named like it
(`email`, `ssn`, `card_number`). Messages never show a secret's value.
"""

from __future__ import annotations

from collections.abc import Iterator

from lambdashield.checks._code import HandlerView, describe, lines_of
from lambdashield.checks._code.labels import PERSONAL, RAW, SECRET
from lambdashield.checks._rule import Hit, rule
from lambdashield.model import Confidence, Lifecycle, Severity

__all__ = ["RULES", "personal_data_logged", "raw_event_logged", "secret_logged"]


def _what_raw(source: str) -> str:
    if "Lambda context" in source:
        return f"the Lambda context (`{source.split(' ', 1)[0]}`)"
    if source == "every incoming event":
        return "every incoming event"
    lowered = source.lower()
    if "header" in lowered or "cookie" in lowered:
        return f"the request headers (`{source}`)"
    if "requestcontext" in lowered or "request_context" in lowered:
        return f"the request context (`{source}`)"
    return f"the raw event (`{source}`)"


@rule(
    id="LS-LOG-001",
    title="Raw event, request headers or Lambda context written to the log",
    severity=Severity.MEDIUM,
    confidence=Confidence.MEDIUM,
    cwe=532,
    since="0.1.0",
    tags=("logging", "taint"),
)
def raw_event_logged(view: HandlerView) -> Iterator[Hit]:
    """Flags logging of the whole event (`print(event)`, `logger.info(event)`,
    `logger.info(json.dumps(event))`, an f-string of it), of its request headers or
    request context, of the Lambda context object, and Powertools'
    `inject_lambda_context(log_event=True)`. Logging one field of the event is not
    flagged.

    ## Why it matters
    An event carries what the caller sent and what API Gateway adds: `Authorization`
    headers and cookies, API keys, JWT claims, and the body with whatever personal data
    it holds. CloudWatch Logs keeps it for as long as the group's retention (forever by
    default) and shows it to everyone with `logs:GetLogEvents`, a much wider audience
    than the data's own.

    ## Fix
    Log what you need to trace the request: the request ID, route, status and timing
    (`logger.info("order created", extra={"order_id": order_id})`), or use the
    `lambdashield.runtime` audit line, which redacts before it writes. Turn
    `log_event` off in production.
    """
    for pointer, hit in view.hits("log", RAW):
        what = _what_raw(hit.flow.source)
        yield Hit(
            pointer,
            f"`{hit.sink}` writes {what} to the log (lines {lines_of(hit)}); log the request "
            "ID and the fields you need instead",
            f"{hit.flow.source}->{hit.sink}",
            flow=hit.path(),
        )


@rule(
    id="LS-LOG-002",
    title="Secret written to the log",
    severity=Severity.HIGH,
    confidence=Confidence.MEDIUM,
    cwe=532,
    since="0.1.0",
    tags=("logging", "secrets", "taint"),
)
def secret_logged(view: HandlerView) -> Iterator[Hit]:
    """Flags a secret that reaches a log sink: a value read from an environment variable
    with a secret's name (`DB_PASSWORD`, `API_KEY`) or the whole `os.environ`, a Secrets
    Manager `get_secret_value` result, an SSM parameter read with
    `WithDecryption=True`, a KMS `decrypt` result, a field named like a credential
    (`password`, `token`, `Authorization`, `Cookie`), or a literal in a known token
    format. Its length (`len(key)`, `key.length`) or a hash of it is not flagged; a
    part of it (`key.slice(0, 8)`) is.

    ## Why it matters
    Logs are read by many more people and tools than the secret store, kept for years,
    exported to other accounts and third-party services, and rarely purged. A secret in
    a log is a leaked secret, and the leak repeats on every invocation.

    ## Fix
    Never log the value: log that it was loaded, or its name, or a short hash if you
    must tell versions apart. Use a logger that redacts by key and value pattern
    (`lambdashield.runtime`'s audit logger) and rotate anything already logged.
    """
    for pointer, hit in view.hits("log", SECRET):
        yield Hit(
            pointer,
            f"`{hit.sink}` writes a secret from {describe(hit.flow.source)} to the log "
            f"(lines {lines_of(hit)}); never log secret values, and rotate this one",
            f"{hit.flow.source}->{hit.sink}",
            flow=hit.path(),
        )


@rule(
    id="LS-LOG-003",
    title="Personal data written to the log",
    severity=Severity.MEDIUM,
    confidence=Confidence.LOW,
    cwe=359,
    since="0.1.0",
    tags=("logging", "privacy", "taint"),
    lifecycle=Lifecycle.PREVIEW,
)
def personal_data_logged(view: HandlerView) -> Iterator[Hit]:
    """Flags fields named like personal data (`email`, `customer_email`, `phone_number`,
    `ssn`, `date_of_birth`, `card_number`, `cvv`, `iban`, `passport`, street
    `address`) that reach a log sink. A hash of the value (`hashlib.sha256(...)`) or its
    length is not flagged. Judged by names only, hence low confidence and preview.

    ## Why it matters
    Personal data in logs escapes the controls built around the database: log
    retention, access and export rarely follow the data-protection rules (GDPR, PCI DSS
    forbids card numbers in logs outright), and erasure requests cannot reach it.

    ## Fix
    Log an identifier instead (the customer ID, the order ID), or a keyed hash when you
    must correlate; mask what remains (`j***@example.com`). A redacting logger
    (`lambdashield.runtime`'s audit logger) catches what slips through.
    """
    for pointer, hit in view.hits("log", PERSONAL):
        yield Hit(
            pointer,
            f"`{hit.sink}` writes personal data from {describe(hit.flow.source)} to the log "
            f"(lines {lines_of(hit)}); log an identifier or a keyed hash instead",
            f"{hit.flow.source}->{hit.sink}",
            flow=hit.path(),
        )


RULES = (raw_event_logged, secret_logged, personal_data_logged)
