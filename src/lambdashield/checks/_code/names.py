"""Field names that say what a value holds: a credential or personal data.

Language-neutral: `password`, `apiKey`, `Authorization`, `x-api-key` name secrets (by the
same words as the template rules, `checks/secrets.py`); `email`, `customer_email`, `ssn`,
`cardNumber`, `date_of_birth` name personal data.
"""

from __future__ import annotations

import re
from functools import lru_cache

from lambdashield.checks.secrets import sensitive_name

__all__ = ["key_labels", "personal_key", "secret_key"]

_SECRET_HEADERS = frozenset(
    {"authorization", "proxyauthorization", "cookie", "cookies", "setcookie", "xapikey"}
    | {"xamzsecuritytoken"}
)
_PERSONAL_EXACT = frozenset(
    {"email", "ssn", "dob", "dateofbirth", "birthdate", "phone", "phonenumber", "mobile"}
    | {"pan", "cvv", "cvc", "iban", "passport", "taxid", "nationalid", "driverslicense"}
    | {"address", "streetaddress", "homeaddress", "billingaddress", "shippingaddress"}
    | {"socialsecuritynumber", "creditcard", "cardnumber", "ccnumber"}
)
_PERSONAL_SUFFIXES = (
    "email",
    "emailaddress",
    "ssn",
    "phonenumber",
    "cardnumber",
    "creditcard",
    "creditcardnumber",
    "dateofbirth",
    "passportnumber",
    "iban",
)
_NOT_ALNUM = re.compile(r"[^a-z0-9]")


def _squash(key: str) -> str:
    return _NOT_ALNUM.sub("", key.lower())


def secret_key(key: str) -> bool:
    """A field that holds a credential: `password`, `apiKey`, `Authorization`."""
    return _squash(key) in _SECRET_HEADERS or sensitive_name(key) is not None


def personal_key(key: str) -> bool:
    """A field that holds personal data: `email`, `customer_email`, `ssn`, `cardNumber`."""
    squashed = _squash(key)
    return squashed in _PERSONAL_EXACT or squashed.endswith(_PERSONAL_SUFFIXES)


@lru_cache(maxsize=8192)
def key_labels(key: str) -> tuple[bool, bool]:
    """`(secret, personal)` for a field name; cached, since every field read asks."""
    return secret_key(key), personal_key(key)
