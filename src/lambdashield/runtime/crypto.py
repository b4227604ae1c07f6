"""Field-level encryption: `encrypt_fields` / `decrypt_fields` over a `CipherProvider`.

Terminology, as in the docs (``docs/runtime-logging.md``):

* **erase** (`lambdashield.runtime.redact`) replaces a value for good; nothing can bring it
  back. Use it for logs.
* **encrypt** replaces a value by a token that the holder of the key can turn back into the
  value. Use it for data that is stored or passed on and must be read again.
* **encryption context**: a non-empty mapping of strings (``{"tenant": "t-42", "table":
  "orders"}``) that is not secret but is bound to the ciphertext. Decryption succeeds only
  with the same context, so a token copied to another tenant or table does not decrypt. It is
  a *required* argument everywhere.

Providers:

* `AesGcmProvider`: AES-GCM with a local 128/192/256-bit key; the context is the associated
  data.
* `FernetProvider`: Fernet (AES-CBC + HMAC) with a local key; Fernet has no associated data,
  so a digest of the context is sealed inside the token and checked on decryption.
* `KmsEnvelopeProvider`: envelope encryption with AWS KMS. Data keys come from
  ``GenerateDataKey`` under the context, are cached for a bounded time and number of uses, and
  encrypt with AES-GCM with the context as associated data; KMS checks the context again when
  it decrypts the data key.

``cryptography`` and ``boto3`` are imported on first use, never with this module (extras
``lambdashield[crypto]`` and ``lambdashield[kms]``).

Exceptions, all with structured fields and never with key material or plaintext::

    CryptoError                          .provider
    ├── CryptoUnavailableError           .package, .extra: an optional package is missing
    ├── EncryptionContextError           .reason: the context argument is unusable
    ├── FieldNotFoundError               .field: a named field is absent
    ├── KmsError                         .operation, .code: a KMS call failed
    └── DecryptionError                  .field, .reason
        ├── MalformedCiphertextError     not a token of ours, or truncated
        ├── TamperedCiphertextError      authentication failed: changed, or another key
        └── EncryptionContextMismatchError   encrypted under another context
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Callable, Mapping, Sequence
    from typing import Any, ParamSpec, Protocol, TypeAlias

    _P = ParamSpec("_P")
    Record: TypeAlias = Mapping[str, object]
else:
    Protocol = object

__all__ = [
    "ENCRYPTED_PREFIX",
    "AesGcmProvider",
    "CipherProvider",
    "CryptoError",
    "CryptoUnavailableError",
    "DecryptionError",
    "EncryptionContextError",
    "EncryptionContextMismatchError",
    "FernetProvider",
    "FieldNotFoundError",
    "KmsClient",
    "KmsEnvelopeProvider",
    "KmsError",
    "MalformedCiphertextError",
    "TamperedCiphertextError",
    "decrypt_fields",
    "decrypts_fields",
    "encrypt_fields",
    "encrypts_fields",
]

ENCRYPTED_PREFIX = "lsenc1:"
"""Every encrypted field value is this prefix and the URL-safe base64 of the provider's
output, so encrypted values are recognisable and survive JSON."""

_MAGIC = b"LS\x01"
_FINGERPRINT_LEN = 8
_NONCE_LEN = 12


# Errors ---------------------------------------------------------------------------------


class CryptoError(Exception):
    """Root of every error raised by this module."""

    def __init__(self, message: str, *, provider: str | None = None) -> None:
        super().__init__(message)
        self.provider = provider


class CryptoUnavailableError(CryptoError):
    """An optional package the provider needs is not installed."""

    def __init__(self, package: str, extra: str, *, provider: str | None = None) -> None:
        super().__init__(
            f"{package} is not installed; install lambdashield[{extra}]", provider=provider
        )
        self.package = package
        self.extra = extra


class EncryptionContextError(CryptoError):
    """The encryption context is missing, empty, or not a mapping of strings to strings."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"invalid encryption context: {reason}")
        self.reason = reason


class FieldNotFoundError(CryptoError):
    """A field named for encryption or decryption is not in the record."""

    def __init__(self, field: str) -> None:
        super().__init__(f"field not found: {field}")
        self.field = field


class KmsError(CryptoError):
    """A call to AWS KMS failed for a reason other than a bad ciphertext."""

    def __init__(self, operation: str, code: str, *, provider: str | None = "kms") -> None:
        super().__init__(f"KMS {operation} failed: {code}", provider=provider)
        self.operation = operation
        self.code = code


class DecryptionError(CryptoError):
    """A value could not be decrypted; ``field`` names it when known."""

    def __init__(
        self, reason: str, *, field: str | None = None, provider: str | None = None
    ) -> None:
        where = f" (field {field})" if field else ""
        super().__init__(f"cannot decrypt{where}: {reason}", provider=provider)
        self.reason = reason
        self.field = field

    def at(self, field: str) -> DecryptionError:
        """The same error naming ``field`` (as raised by `decrypt_fields`)."""
        return type(self)(self.reason, field=field, provider=self.provider)


class MalformedCiphertextError(DecryptionError):
    """The value is not a lambdashield token, is truncated, or names another provider."""


class TamperedCiphertextError(DecryptionError):
    """Authentication failed: the token was changed, or was made with another key."""


class EncryptionContextMismatchError(DecryptionError):
    """The token was encrypted under another encryption context."""


# Providers --------------------------------------------------------------------------------


class CipherProvider(Protocol):
    """What `encrypt_fields` needs: bytes in, bytes out, bound to an encryption context.

    ``context`` is the caller's encryption context as given; a provider must make
    decryption fail under any other context (raising `EncryptionContextMismatchError` when
    it can tell, `TamperedCiphertextError` otherwise).
    """

    def encrypt(self, plaintext: bytes, *, context: Mapping[str, str]) -> bytes: ...

    def decrypt(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes: ...


def _canonical_context(context: Mapping[str, str]) -> bytes:
    """Sorted, compact JSON of the context: the bytes bound as associated data."""
    if not hasattr(context, "items"):
        raise EncryptionContextError("it must be a mapping of strings to strings")
    if not context:
        raise EncryptionContextError("it must not be empty")
    for key, value in context.items():
        if type(key) is not str or type(value) is not str:
            raise EncryptionContextError("keys and values must be strings")
        if not key:
            raise EncryptionContextError("keys must not be empty")
    import json

    return json.dumps(dict(context), sort_keys=True, separators=(",", ":")).encode("utf-8")


def _fingerprint(canonical: bytes) -> bytes:
    import hashlib

    return hashlib.sha256(b"lambdashield context\x00" + canonical).digest()[:_FINGERPRINT_LEN]


def _same(left: bytes, right: bytes) -> bool:
    import hmac

    return hmac.compare_digest(left, right)


class _Aead(Protocol):
    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes | None) -> bytes: ...


class _FernetLike(Protocol):
    def encrypt(self, data: bytes) -> bytes: ...

    def decrypt(self, token: bytes) -> bytes: ...


class _Backend:
    """The pieces of ``cryptography`` we use, imported on first use."""

    __slots__ = ("aesgcm", "fernet", "invalid_tag", "invalid_token")

    def __init__(self, provider: str) -> None:
        import importlib

        try:
            aead = importlib.import_module("cryptography.hazmat.primitives.ciphers.aead")
            fernet = importlib.import_module("cryptography.fernet")
            exceptions = importlib.import_module("cryptography.exceptions")
        except ImportError:
            raise CryptoUnavailableError("cryptography", "crypto", provider=provider) from None
        self.aesgcm: Callable[[bytes], _Aead] = aead.AESGCM
        self.fernet: Callable[[bytes], _FernetLike] = fernet.Fernet
        self.invalid_tag: type[Exception] = exceptions.InvalidTag
        self.invalid_token: type[Exception] = fernet.InvalidToken


_backend: _Backend | None = None


def _crypto(provider: str) -> _Backend:
    global _backend
    if _backend is None:
        _backend = _Backend(provider)
    return _backend


def _check_key(key: bytes) -> bytes:
    if not isinstance(key, (bytes, bytearray)) or len(key) not in (16, 24, 32):
        raise ValueError("an AES key is 16, 24 or 32 bytes")
    return bytes(key)


def _gcm_seal(aead: _Aead, header: bytes, canonical: bytes, plaintext: bytes) -> bytes:
    nonce = os.urandom(_NONCE_LEN)
    return header + nonce + aead.encrypt(nonce, plaintext, header + canonical)


def _gcm_open(
    backend: _Backend, aead: _Aead, header: bytes, canonical: bytes, body: bytes, provider: str
) -> bytes:
    if len(body) < _NONCE_LEN + 16:
        raise MalformedCiphertextError("ciphertext truncated", provider=provider)
    nonce, sealed = body[:_NONCE_LEN], body[_NONCE_LEN:]
    try:
        return aead.decrypt(nonce, sealed, header + canonical)
    except backend.invalid_tag:
        raise TamperedCiphertextError(
            "authentication failed (changed, or another key)", provider=provider
        ) from None


def _open_header(ciphertext: bytes, kind: bytes, canonical: bytes, provider: str) -> int:
    """Check magic, kind and context fingerprint; return where the body starts."""
    start = len(_MAGIC) + 1
    if len(ciphertext) < start + _FINGERPRINT_LEN or ciphertext[: len(_MAGIC)] != _MAGIC:
        raise MalformedCiphertextError("not a lambdashield ciphertext", provider=provider)
    if ciphertext[len(_MAGIC) : start] != kind:
        raise MalformedCiphertextError("made by another provider", provider=provider)
    fingerprint = ciphertext[start : start + _FINGERPRINT_LEN]
    if not _same(fingerprint, _fingerprint(canonical)):
        raise EncryptionContextMismatchError(
            "encrypted under another encryption context", provider=provider
        )
    return start + _FINGERPRINT_LEN


class AesGcmProvider:
    """AES-GCM with a local key; the encryption context is bound as associated data.

    Keep the key in a secret store, never in code or environment variables in plain text.
    `generate_key` makes a fresh 256-bit key.
    """

    name = "aes-gcm"
    _KIND = b"G"

    def __init__(self, key: bytes) -> None:
        self._key = _check_key(key)
        self._aead: _Aead | None = None

    def __repr__(self) -> str:
        return f"AesGcmProvider(<{len(self._key) * 8}-bit key>)"

    @staticmethod
    def generate_key(bits: int = 256) -> bytes:
        if bits not in (128, 192, 256):
            raise ValueError("bits must be 128, 192 or 256")
        return os.urandom(bits // 8)

    def _cipher(self) -> tuple[_Backend, _Aead]:
        backend = _crypto(self.name)
        if self._aead is None:
            self._aead = backend.aesgcm(self._key)
        return backend, self._aead

    def encrypt(self, plaintext: bytes, *, context: Mapping[str, str]) -> bytes:
        canonical = _canonical_context(context)
        _, aead = self._cipher()
        header = _MAGIC + self._KIND + _fingerprint(canonical)
        return _gcm_seal(aead, header, canonical, plaintext)

    def decrypt(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes:
        canonical = _canonical_context(context)
        start = _open_header(ciphertext, self._KIND, canonical, self.name)
        backend, aead = self._cipher()
        header = ciphertext[:start]
        return _gcm_open(backend, aead, header, canonical, ciphertext[start:], self.name)


class FernetProvider:
    """Fernet with a local key (``Fernet.generate_key()`` format: 32 bytes, URL-safe base64).

    Fernet authenticates but has no associated data, so the context is bound by sealing a
    SHA-256 digest of it inside the token; a token opened under another context raises
    `EncryptionContextMismatchError`.
    """

    name = "fernet"
    _KIND = b"F"
    _DIGEST_LEN = 16

    def __init__(self, key: bytes | str) -> None:
        self._key = key.encode("ascii") if isinstance(key, str) else bytes(key)
        self._fernet: _FernetLike | None = None

    def __repr__(self) -> str:
        return "FernetProvider(<key>)"

    @staticmethod
    def generate_key() -> bytes:
        import base64

        return base64.urlsafe_b64encode(os.urandom(32))

    def _cipher(self) -> tuple[_Backend, _FernetLike]:
        backend = _crypto(self.name)
        if self._fernet is None:
            try:
                self._fernet = backend.fernet(self._key)
            except (ValueError, TypeError):
                raise ValueError("a Fernet key is 32 bytes in URL-safe base64") from None
        return backend, self._fernet

    def _digest(self, canonical: bytes) -> bytes:
        import hashlib

        return hashlib.sha256(b"lambdashield fernet context\x00" + canonical).digest()[
            : self._DIGEST_LEN
        ]

    def encrypt(self, plaintext: bytes, *, context: Mapping[str, str]) -> bytes:
        canonical = _canonical_context(context)
        _, fernet = self._cipher()
        import base64

        header = _MAGIC + self._KIND + _fingerprint(canonical)
        token = fernet.encrypt(self._digest(canonical) + plaintext)
        return header + base64.urlsafe_b64decode(token)  # stored raw: the field is base64 again

    def decrypt(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes:
        canonical = _canonical_context(context)
        start = _open_header(ciphertext, self._KIND, canonical, self.name)
        import base64

        backend, fernet = self._cipher()
        try:
            opened = fernet.decrypt(base64.urlsafe_b64encode(ciphertext[start:]))
        except backend.invalid_token:
            raise TamperedCiphertextError(
                "authentication failed (changed, or another key)", provider=self.name
            ) from None
        digest, plaintext = opened[: self._DIGEST_LEN], opened[self._DIGEST_LEN :]
        if not _same(digest, self._digest(canonical)):
            raise EncryptionContextMismatchError(
                "encrypted under another encryption context", provider=self.name
            )
        return plaintext


class KmsClient(Protocol):
    """The two calls of a boto3 KMS client that `KmsEnvelopeProvider` makes."""

    def generate_data_key(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def decrypt(self, **kwargs: Any) -> Mapping[str, Any]: ...


class _DataKey:
    __slots__ = ("created", "encrypted", "plaintext", "uses")

    def __init__(self, plaintext: bytes, encrypted: bytes) -> None:
        self.plaintext = plaintext
        self.encrypted = encrypted
        self.created = time.monotonic()
        self.uses = 0


class KmsEnvelopeProvider:
    """Envelope encryption with AWS KMS and cached data keys.

    Each data key comes from ``GenerateDataKey`` (AES-256) under the caller's encryption
    context and is reused for at most ``max_age_s`` seconds and ``max_uses`` encryptions, so
    a busy function calls KMS rarely while no key lives long. Decrypted data keys are cached
    under the same bounds, keyed by the encrypted key *and* the context. Each value is
    sealed with AES-GCM under the data key, with the context as associated data; the token
    carries the encrypted data key, so decryption needs KMS permission ``kms:Decrypt`` and
    the same context.

    Parameters
    ----------
    key_id:
        KMS key ID, ARN or alias (``alias/orders``).
    client:
        A boto3 KMS client; one is made on first use with ``region_name`` and
        ``endpoint_url`` when None.
    max_age_s, max_uses, max_keys:
        Cache bounds: lifetime of a data key, encryptions per data key, keys held.
    """

    name = "kms"
    _KIND = b"K"

    def __init__(
        self,
        key_id: str,
        *,
        client: KmsClient | None = None,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        max_age_s: float = 300.0,
        max_uses: int = 10_000,
        max_keys: int = 64,
    ) -> None:
        if not key_id:
            raise ValueError("key_id is required")
        if max_age_s <= 0 or max_uses < 1 or max_keys < 1:
            raise ValueError("max_age_s must be > 0, max_uses and max_keys >= 1")
        import threading

        self.key_id = key_id
        self._client = client
        self._region_name = region_name
        self._endpoint_url = endpoint_url
        self.max_age_s = max_age_s
        self.max_uses = max_uses
        self.max_keys = max_keys
        self._lock: threading.Lock = threading.Lock()
        self._encrypting: dict[bytes, _DataKey] = {}
        self._decrypting: dict[tuple[bytes, bytes], _DataKey] = {}
        self.kms_calls = 0
        """How many KMS requests this provider has made (for tests and metrics)."""

    def __repr__(self) -> str:
        return f"KmsEnvelopeProvider({self.key_id!r})"

    def clear_cache(self) -> None:
        """Forget every cached data key."""
        with self._lock:
            self._encrypting.clear()
            self._decrypting.clear()

    def _kms(self) -> KmsClient:
        if self._client is None:
            import importlib

            try:
                boto3 = importlib.import_module("boto3")
            except ImportError:
                raise CryptoUnavailableError("boto3", "kms", provider=self.name) from None
            self._client = boto3.client(
                "kms", region_name=self._region_name, endpoint_url=self._endpoint_url
            )
        return self._client

    def _fresh(self, entry: _DataKey | None, now: float) -> bool:
        return (
            entry is not None
            and now - entry.created < self.max_age_s
            and entry.uses < self.max_uses
        )

    def _remember(self, cache: dict[Any, _DataKey], key: object, entry: _DataKey) -> None:
        cache[key] = entry
        while len(cache) > self.max_keys:
            del cache[next(iter(cache))]

    def _call(self, operation: str, **kwargs: Any) -> Mapping[str, Any]:
        client = self._kms()
        self.kms_calls += 1
        method = client.generate_data_key if operation == "GenerateDataKey" else client.decrypt
        try:
            return method(**kwargs)
        except Exception as exc:
            code = _error_code(exc)
            if code is None:
                raise
            if code in ("InvalidCiphertextException", "IncorrectKeyException"):
                raise TamperedCiphertextError(
                    f"KMS refused the data key ({code}): changed, another key or context",
                    provider=self.name,
                ) from None
            raise KmsError(operation, code) from None

    def encrypt(self, plaintext: bytes, *, context: Mapping[str, str]) -> bytes:
        canonical = _canonical_context(context)
        backend = _crypto(self.name)
        with self._lock:
            now = time.monotonic()
            entry = self._encrypting.get(canonical)
            if entry is None or not self._fresh(entry, now):
                response = self._call(
                    "GenerateDataKey",
                    KeyId=self.key_id,
                    KeySpec="AES_256",
                    EncryptionContext=dict(context),
                )
                entry = _DataKey(bytes(response["Plaintext"]), bytes(response["CiphertextBlob"]))
                self._remember(self._encrypting, canonical, entry)
            entry.uses += 1
            data_key, encrypted_key = entry.plaintext, entry.encrypted
        if len(encrypted_key) > 0xFFFF:
            raise KmsError("GenerateDataKey", "EncryptedKeyTooLong")
        header = (
            _MAGIC
            + self._KIND
            + _fingerprint(canonical)
            + len(encrypted_key).to_bytes(2, "big")
            + encrypted_key
        )
        return _gcm_seal(backend.aesgcm(data_key), header, canonical, plaintext)

    def decrypt(self, ciphertext: bytes, *, context: Mapping[str, str]) -> bytes:
        canonical = _canonical_context(context)
        start = _open_header(ciphertext, self._KIND, canonical, self.name)
        if len(ciphertext) < start + 2:
            raise MalformedCiphertextError("ciphertext truncated", provider=self.name)
        key_len = int.from_bytes(ciphertext[start : start + 2], "big")
        body_start = start + 2 + key_len
        if key_len == 0 or len(ciphertext) < body_start:
            raise MalformedCiphertextError("ciphertext truncated", provider=self.name)
        encrypted_key = ciphertext[start + 2 : body_start]
        backend = _crypto(self.name)
        cache_key = (encrypted_key, canonical)
        with self._lock:
            now = time.monotonic()
            entry = self._decrypting.get(cache_key)
            if entry is None or not self._fresh(entry, now):
                response = self._call(
                    "Decrypt",
                    KeyId=self.key_id,
                    CiphertextBlob=encrypted_key,
                    EncryptionContext=dict(context),
                )
                entry = _DataKey(bytes(response["Plaintext"]), encrypted_key)
                self._remember(self._decrypting, cache_key, entry)
            entry.uses += 1
            data_key = entry.plaintext
        header = ciphertext[:body_start]
        return _gcm_open(
            backend,
            backend.aesgcm(data_key),
            header,
            canonical,
            ciphertext[body_start:],
            self.name,
        )


def _error_code(exc: Exception) -> str | None:
    """The AWS error code of a botocore ``ClientError`` (read without importing botocore)."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        error = response.get("Error")
        if isinstance(error, dict):
            code = error.get("Code")
            if isinstance(code, str) and code:
                return code
    if type(exc).__module__.startswith("botocore"):
        return type(exc).__name__
    return None


# Field encryption -----------------------------------------------------------------------


def _copy(value: object) -> object:
    """A copy of the dicts and lists in ``value`` (leaves are shared: they are not changed)."""
    if type(value) is dict:
        return {key: _copy(item) for key, item in value.items()}
    if type(value) is list:
        return [_copy(item) for item in value]
    if isinstance(value, tuple):
        return [_copy(item) for item in value]
    if hasattr(value, "items") and callable(value.items):
        return {key: _copy(item) for key, item in value.items()}
    return value


def _locate(record: dict[str, object], field: str) -> list[tuple[Any, Any]]:
    """Every (container, key) the dotted path ``field`` names; ``*`` matches all items."""
    parts = field.split(".")
    found: list[tuple[Any, Any]] = []

    def walk(node: object, index: int) -> None:
        part = parts[index]
        last = index == len(parts) - 1
        slots: list[tuple[Any, Any]] = []
        if isinstance(node, dict):
            if part == "*":
                slots = [(node, key) for key in node]
            elif part in node:
                slots = [(node, part)]
        elif isinstance(node, list):
            if part == "*":
                slots = [(node, position) for position in range(len(node))]
            elif part.isdigit() and int(part) < len(node):
                slots = [(node, int(part))]
        for container, key in slots:
            if last:
                found.append((container, key))
            else:
                walk(container[key], index + 1)

    if field:
        walk(record, 0)
    return found


def _to_token(blob: bytes) -> str:
    import base64

    return ENCRYPTED_PREFIX + base64.urlsafe_b64encode(blob).rstrip(b"=").decode("ascii")


def _from_token(token: str, field: str) -> bytes:
    import base64
    import binascii

    body = token[len(ENCRYPTED_PREFIX) :]
    try:
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise MalformedCiphertextError("not valid base64", field=field) from None


def encrypt_fields(
    record: Record,
    fields: Sequence[str],
    provider: CipherProvider,
    *,
    context: Mapping[str, str],
    missing_ok: bool = False,
) -> dict[str, object]:
    """A copy of ``record`` with each named field encrypted; ``record`` is not changed.

    ``fields`` are dotted paths (``"card"``, ``"customer.ssn"``, ``"items.*.card"``; ``*``
    matches every item of a list or every value of a mapping). Each value, whatever its JSON
    type, becomes a string token starting with `ENCRYPTED_PREFIX`; the field path is sealed
    inside it, so a token moved to another field does not decrypt. A field that is absent
    raises `FieldNotFoundError` unless ``missing_ok``.
    """
    _canonical_context(context)
    import json

    result = _copy(record)
    if not isinstance(result, dict):
        raise TypeError("record must be a mapping")
    for field in fields:
        slots = _locate(result, field)
        if not slots and not missing_ok:
            raise FieldNotFoundError(field)
        for container, key in slots:
            value = container[key]
            plaintext = json.dumps(
                [field, value], ensure_ascii=False, separators=(",", ":"), default=str
            ).encode("utf-8")
            container[key] = _to_token(provider.encrypt(plaintext, context=context))
    return result


def decrypt_fields(
    record: Record,
    fields: Sequence[str],
    provider: CipherProvider,
    *,
    context: Mapping[str, str],
    missing_ok: bool = False,
) -> dict[str, object]:
    """A copy of ``record`` with each named field decrypted; ``record`` is not changed.

    The inverse of `encrypt_fields`, with the same ``fields`` and ``context``. A value that
    is not a token raises `MalformedCiphertextError`; a wrong context raises
    `EncryptionContextMismatchError`; a changed token `TamperedCiphertextError`. Each error
    names the field in ``.field``.
    """
    _canonical_context(context)
    import json

    result = _copy(record)
    if not isinstance(result, dict):
        raise TypeError("record must be a mapping")
    for field in fields:
        slots = _locate(result, field)
        if not slots and not missing_ok:
            raise FieldNotFoundError(field)
        for container, key in slots:
            token = container[key]
            if not isinstance(token, str) or not token.startswith(ENCRYPTED_PREFIX):
                raise MalformedCiphertextError("not an encrypted value", field=field)
            try:
                plaintext = provider.decrypt(_from_token(token, field), context=context)
            except DecryptionError as exc:
                raise exc.at(field) from None
            try:
                sealed_field, value = json.loads(plaintext.decode("utf-8"))
            except (ValueError, TypeError):
                raise MalformedCiphertextError("not a sealed field", field=field) from None
            if sealed_field != field:
                raise TamperedCiphertextError(
                    "the token belongs to another field", field=field
                ) from None
            container[key] = value
    return result


def encrypts_fields(
    fields: Sequence[str],
    provider: CipherProvider,
    *,
    context: Mapping[str, str],
    missing_ok: bool = False,
) -> Callable[[Callable[_P, Record]], Callable[_P, dict[str, object]]]:
    """Decorator form of `encrypt_fields`: the function's returned record comes back with
    ``fields`` encrypted."""
    return _transforming(encrypt_fields, fields, provider, context, missing_ok)


def decrypts_fields(
    fields: Sequence[str],
    provider: CipherProvider,
    *,
    context: Mapping[str, str],
    missing_ok: bool = False,
) -> Callable[[Callable[_P, Record]], Callable[_P, dict[str, object]]]:
    """Decorator form of `decrypt_fields`: the function's returned record comes back with
    ``fields`` decrypted."""
    return _transforming(decrypt_fields, fields, provider, context, missing_ok)


def _transforming(
    transform: Callable[..., dict[str, object]],
    fields: Sequence[str],
    provider: CipherProvider,
    context: Mapping[str, str],
    missing_ok: bool,
) -> Callable[[Callable[_P, Record]], Callable[_P, dict[str, object]]]:
    """A decorator that passes the function's returned record through `transform`."""
    _canonical_context(context)

    def decorate(function: Callable[_P, Record]) -> Callable[_P, dict[str, object]]:
        import functools

        @functools.wraps(function)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> dict[str, object]:
            return transform(
                function(*args, **kwargs), fields, provider, context=context, missing_ok=missing_ok
            )

        return wrapper

    return decorate
