"""The labels a flow carries: what kind of data it is.

- `event`: data from the invocation event; what the injection rules follow.
- `raw`: the event object itself, its request headers or the context object, whole (not a
  field taken from them); what LS-LOG-001 follows.
- `secret`: a credential (an environment variable with a secret's name, a Secrets
  Manager or decrypted SSM value, a field named `password` or `Authorization`).
- `personal`: a field named like personal data (`email`, `ssn`, `card_number`).
- `exception`: the text of a caught exception or a formatted stack trace.

A module of its own so that the rules, which ask `HandlerView` for hits by label, import
none of the analysis that produces them.
"""

from __future__ import annotations

__all__ = ["EVENT", "EXCEPTION", "LABELS", "PERSONAL", "RAW", "SECRET"]

EVENT = "event"
RAW = "raw"
SECRET = "secret"  # noqa: S105 - a label, not a credential
PERSONAL = "personal"
EXCEPTION = "exception"
LABELS = (EVENT, RAW, SECRET, PERSONAL, EXCEPTION)
