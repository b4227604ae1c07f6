"""lambdashield's runtime guard, imported inside Lambda handlers.

Standard library only at import time: `pip install --no-deps lambdashield` gives a working
guard. Optional pieces load on first use (`fastjsonschema` for JSON Schema validation).

- `detect(event)`: the source label (`apigw_rest_v1`, `s3`, `sqs`, ..., or `unknown`).
- `validate(event, sources=..., http=..., s3=..., batch=...)`: the typed read-only view, or
  `EventValidationError` with `.rule`, `.path` and `.source`.
- `@guard(...)` / `run_guarded(handler, event, context, ...)`: validation, safe responses,
  security headers, partial batch failures (per-record results for Firehose) and one
  redacted audit line per invocation.
- `AuditLogger`, `Redactor`, `redact_logging()`: structured logs that never carry secrets.
- `encrypt_fields` / `decrypt_fields` with AES-GCM, Fernet or KMS envelope keys
  (`cryptography` and `boto3` load on first use).
"""

from .audit_log import AUDIT_FIELDS, AuditLogger, redact_logging, utc_timestamp
from .crypto import (
    AesGcmProvider,
    CipherProvider,
    CryptoError,
    CryptoUnavailableError,
    DecryptionError,
    EncryptionContextError,
    EncryptionContextMismatchError,
    FernetProvider,
    FieldNotFoundError,
    KmsEnvelopeProvider,
    KmsError,
    MalformedCiphertextError,
    TamperedCiphertextError,
    decrypt_fields,
    decrypts_fields,
    encrypt_fields,
    encrypts_fields,
)
from .events import HTTP_SOURCES, PARTIAL_BATCH_SOURCES, SOURCES, UNKNOWN, detect, validate
from .exceptions import (
    RULES,
    EventValidationError,
    HandlerAnswerError,
    HandlerError,
    LambdashieldRuntimeError,
    RuntimeConfigError,
)
from .guard import DEFAULT_SECURITY_HEADERS, guard, run_guarded, write_audit_line
from .options import DEFAULT_METHODS, BatchOptions, HttpOptions, S3Options
from .redact import DEPTH_MARKER, MASK, SIZE_MARKER, Redactor, redact_text, redacts
from .views import (
    BatchEvent,
    BatchRecord,
    EventView,
    HttpRequest,
    RejectedRecord,
    S3Event,
    S3Object,
)

__all__ = [
    "AUDIT_FIELDS",
    "DEFAULT_METHODS",
    "DEFAULT_SECURITY_HEADERS",
    "DEPTH_MARKER",
    "HTTP_SOURCES",
    "MASK",
    "PARTIAL_BATCH_SOURCES",
    "RULES",
    "SIZE_MARKER",
    "SOURCES",
    "UNKNOWN",
    "AesGcmProvider",
    "AuditLogger",
    "BatchEvent",
    "BatchOptions",
    "BatchRecord",
    "CipherProvider",
    "CryptoError",
    "CryptoUnavailableError",
    "DecryptionError",
    "EncryptionContextError",
    "EncryptionContextMismatchError",
    "EventValidationError",
    "EventView",
    "FernetProvider",
    "FieldNotFoundError",
    "HandlerAnswerError",
    "HandlerError",
    "HttpOptions",
    "HttpRequest",
    "KmsEnvelopeProvider",
    "KmsError",
    "LambdashieldRuntimeError",
    "MalformedCiphertextError",
    "Redactor",
    "RejectedRecord",
    "RuntimeConfigError",
    "S3Event",
    "S3Object",
    "S3Options",
    "TamperedCiphertextError",
    "decrypt_fields",
    "decrypts_fields",
    "detect",
    "encrypt_fields",
    "encrypts_fields",
    "guard",
    "redact_logging",
    "redact_text",
    "redacts",
    "run_guarded",
    "utc_timestamp",
    "validate",
    "write_audit_line",
]
