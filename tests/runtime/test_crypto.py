"""Field encryption: round trips, tamper detection, wrong context, and KMS against moto.

The KMS tests start moto in server mode on a free localhost port and make real boto3 calls
over HTTP to it, with fake credentials set for the test only. Nothing leaves the machine.
"""

from __future__ import annotations

import base64
import copy
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("cryptography", reason="lambdashield[crypto] is not installed")

from lambdashield.runtime import crypto
from lambdashield.runtime.crypto import (
    ENCRYPTED_PREFIX,
    AesGcmProvider,
    CipherProvider,
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

CONTEXT = {"tenant": "t-42", "table": "orders"}
OTHER_CONTEXT = {"tenant": "t-43", "table": "orders"}
RECORD: dict[str, object] = {
    "id": "o-1",
    "card": "4111 1111 1111 1111",
    "ssn": 123456789,
    "customer": {"name": "Zoë", "email": "jane@example.com", "tags": ["a", "b"]},
    "items": [{"sku": "s-1", "price": 9.5}, {"sku": "s-2", "price": None}],
    "flag": True,
}
FIELDS = ["card", "ssn", "customer.email", "customer.tags", "items.*.price", "flag"]


def _local_providers() -> list[CipherProvider]:
    return [
        AesGcmProvider(AesGcmProvider.generate_key(128)),
        AesGcmProvider(AesGcmProvider.generate_key(192)),
        AesGcmProvider(AesGcmProvider.generate_key()),
        FernetProvider(FernetProvider.generate_key()),
    ]


@pytest.fixture(
    params=_local_providers(), ids=["aes-gcm-128", "aes-gcm-192", "aes-gcm-256", "fernet"]
)
def provider(request: pytest.FixtureRequest) -> CipherProvider:
    chosen: CipherProvider = request.param
    return chosen


def _flip(token: str, at: int) -> str:
    """``token`` with one bit of its decoded ciphertext flipped at byte ``at``."""
    body = token[len(ENCRYPTED_PREFIX) :]
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[at] ^= 0x01
    return ENCRYPTED_PREFIX + base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()


def test_round_trip_of_every_json_type(provider: CipherProvider) -> None:
    encrypted = encrypt_fields(RECORD, FIELDS, provider, context=CONTEXT)
    for path in ("card", "ssn", "flag"):
        value = encrypted[path]
        assert isinstance(value, str)
        assert value.startswith(ENCRYPTED_PREFIX)
    assert "4111" not in str(encrypted)
    assert encrypted["id"] == "o-1"
    assert decrypt_fields(encrypted, FIELDS, provider, context=CONTEXT) == RECORD


def test_neither_call_changes_its_input(provider: CipherProvider) -> None:
    record = copy.deepcopy(RECORD)
    encrypted = encrypt_fields(record, FIELDS, provider, context=CONTEXT)
    assert record == RECORD
    frozen = copy.deepcopy(encrypted)
    decrypted = decrypt_fields(encrypted, FIELDS, provider, context=CONTEXT)
    assert encrypted == frozen
    decrypted["customer"]["name"] = "changed"  # type: ignore[index]
    assert record["customer"]["name"] == "Zoë"  # type: ignore[index]


def test_same_value_encrypts_differently_each_time(provider: CipherProvider) -> None:
    first = encrypt_fields({"card": "x"}, ["card"], provider, context=CONTEXT)
    second = encrypt_fields({"card": "x"}, ["card"], provider, context=CONTEXT)
    assert first["card"] != second["card"]


def test_wrong_context_is_a_context_mismatch(provider: CipherProvider) -> None:
    encrypted = encrypt_fields(RECORD, ["card"], provider, context=CONTEXT)
    with pytest.raises(EncryptionContextMismatchError) as caught:
        decrypt_fields(encrypted, ["card"], provider, context=OTHER_CONTEXT)
    assert caught.value.field == "card"
    assert "4111" not in str(caught.value)


def test_context_mismatch_is_found_even_when_the_header_is_forged(
    provider: CipherProvider,
) -> None:
    """Copy the other context's fingerprint into the header: the sealed binding still fails."""
    mine = encrypt_fields({"card": "x"}, ["card"], provider, context=CONTEXT)["card"]
    theirs = encrypt_fields({"card": "x"}, ["card"], provider, context=OTHER_CONTEXT)["card"]
    assert isinstance(mine, str)
    assert isinstance(theirs, str)

    def raw(token: str) -> bytes:
        body = token[len(ENCRYPTED_PREFIX) :]
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))

    forged = raw(theirs)[:12] + raw(mine)[12:]
    token = ENCRYPTED_PREFIX + base64.urlsafe_b64encode(forged).decode()
    with pytest.raises((TamperedCiphertextError, EncryptionContextMismatchError)):
        decrypt_fields({"card": token}, ["card"], provider, context=OTHER_CONTEXT)


@pytest.mark.parametrize("at", [0, 3, 5, 20, -1])
def test_any_changed_byte_is_detected(provider: CipherProvider, at: int) -> None:
    token = encrypt_fields({"card": "4111"}, ["card"], provider, context=CONTEXT)["card"]
    assert isinstance(token, str)
    with pytest.raises(DecryptionError) as caught:
        decrypt_fields({"card": _flip(token, at)}, ["card"], provider, context=CONTEXT)
    assert caught.value.field == "card"


def test_another_key_is_detected(provider: CipherProvider) -> None:
    encrypted = encrypt_fields({"card": "4111"}, ["card"], provider, context=CONTEXT)
    other: CipherProvider = (
        FernetProvider(FernetProvider.generate_key())
        if isinstance(provider, FernetProvider)
        else AesGcmProvider(AesGcmProvider.generate_key())
    )
    with pytest.raises(TamperedCiphertextError):
        decrypt_fields(encrypted, ["card"], other, context=CONTEXT)


def test_a_token_moved_to_another_field_does_not_decrypt(provider: CipherProvider) -> None:
    encrypted = encrypt_fields(
        {"card": "4111", "ssn": "123"}, ["card", "ssn"], provider, context=CONTEXT
    )
    swapped = {"card": encrypted["ssn"], "ssn": encrypted["card"]}
    with pytest.raises(TamperedCiphertextError, match="another field"):
        decrypt_fields(swapped, ["card"], provider, context=CONTEXT)


@pytest.mark.parametrize(
    "value",
    [
        "4111 1111 1111 1111",
        12,
        ENCRYPTED_PREFIX + "!!!",
        ENCRYPTED_PREFIX + "AAAA",
        ENCRYPTED_PREFIX + base64.urlsafe_b64encode(b"LS\x01Z" + bytes(40)).decode(),
    ],
    ids=["plain", "number", "bad-base64", "truncated", "unknown-provider"],
)
def test_values_that_are_not_our_tokens_are_malformed(
    provider: CipherProvider, value: object
) -> None:
    with pytest.raises(MalformedCiphertextError):
        decrypt_fields({"card": value}, ["card"], provider, context=CONTEXT)


def test_tokens_name_their_provider() -> None:
    gcm = AesGcmProvider(AesGcmProvider.generate_key())
    fernet = FernetProvider(FernetProvider.generate_key())
    token = encrypt_fields({"card": "x"}, ["card"], gcm, context=CONTEXT)
    with pytest.raises(MalformedCiphertextError, match="another provider"):
        decrypt_fields(token, ["card"], fernet, context=CONTEXT)


@pytest.mark.parametrize(
    ("context", "reason"),
    [
        ({}, "must not be empty"),
        ({"tenant": 42}, "strings"),
        ({"": "x"}, "keys must not be empty"),
        ("tenant=42", "mapping"),
    ],
)
def test_the_context_must_be_a_non_empty_mapping_of_strings(context: Any, reason: str) -> None:
    gcm = AesGcmProvider(AesGcmProvider.generate_key())
    with pytest.raises(EncryptionContextError, match=reason):
        encrypt_fields({"card": "x"}, ["card"], gcm, context=context)


def test_the_context_is_a_required_argument() -> None:
    gcm = AesGcmProvider(AesGcmProvider.generate_key())
    with pytest.raises(TypeError):
        encrypt_fields({"card": "x"}, ["card"], gcm)  # type: ignore[call-arg]


def test_missing_fields_raise_unless_allowed() -> None:
    gcm = AesGcmProvider(AesGcmProvider.generate_key())
    with pytest.raises(FieldNotFoundError) as caught:
        encrypt_fields({"card": "x"}, ["crad"], gcm, context=CONTEXT)
    assert caught.value.field == "crad"
    assert encrypt_fields({"a": 1}, ["crad"], gcm, context=CONTEXT, missing_ok=True) == {"a": 1}
    with pytest.raises(FieldNotFoundError):
        decrypt_fields({"a": 1}, ["card"], gcm, context=CONTEXT)


def test_paths_reach_list_items_and_mapping_values() -> None:
    gcm = AesGcmProvider(AesGcmProvider.generate_key())
    record = {
        "rows": [{"pan": "1"}, {"pan": "2"}],
        "by_id": {"a": {"pan": "3"}},
        "list": ["x", "y"],
    }
    fields = ["rows.*.pan", "by_id.*.pan", "list.1"]
    encrypted = encrypt_fields(record, fields, gcm, context=CONTEXT)
    assert encrypted["list"][0] == "x"  # type: ignore[index]
    assert str(encrypted["list"][1]).startswith(ENCRYPTED_PREFIX)  # type: ignore[index]
    assert decrypt_fields(encrypted, fields, gcm, context=CONTEXT) == record


def test_decorators() -> None:
    gcm = AesGcmProvider(AesGcmProvider.generate_key())

    @encrypts_fields(["ssn"], gcm, context=CONTEXT)
    def load() -> dict[str, object]:
        return {"ssn": "123-45-6789", "name": "Jane"}

    @decrypts_fields(["ssn"], gcm, context=CONTEXT)
    def reopen(record: dict[str, object]) -> dict[str, object]:
        return record

    stored = load()
    assert str(stored["ssn"]).startswith(ENCRYPTED_PREFIX)
    assert reopen(stored) == {"ssn": "123-45-6789", "name": "Jane"}


def test_keys_are_checked_and_never_shown() -> None:
    with pytest.raises(ValueError, match="16, 24 or 32"):
        AesGcmProvider(b"short")
    key = AesGcmProvider.generate_key()
    assert key.hex() not in repr(AesGcmProvider(key))
    with pytest.raises(ValueError, match="Fernet key"):
        FernetProvider("not-a-key").encrypt(b"x", context=CONTEXT)


def test_missing_cryptography_is_reported_with_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crypto, "_backend", None)
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.ciphers.aead", None)
    gcm = AesGcmProvider(AesGcmProvider.generate_key())
    with pytest.raises(CryptoUnavailableError) as caught:
        encrypt_fields({"card": "x"}, ["card"], gcm, context=CONTEXT)
    assert (caught.value.package, caught.value.extra) == ("cryptography", "crypto")


# KMS against moto in server mode ---------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def kms_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    pytest.importorskip("boto3", reason="lambdashield[kms] is not installed")
    server_module = pytest.importorskip("moto.server", reason="moto[server] is not installed")
    home = tmp_path_factory.mktemp("aws")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": str(Path(home) / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(Path(home) / "credentials"),
        }.items():
            patch.setenv(name, value)
        patch.delenv("AWS_PROFILE", raising=False)
        port = _free_port()
        server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        server.start()
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            server.stop()


@pytest.fixture(scope="module")
def kms_client(kms_endpoint: str) -> Any:
    import boto3

    return boto3.client("kms", region_name="us-east-1", endpoint_url=kms_endpoint)


@pytest.fixture(scope="module")
def kms_key(kms_client: Any) -> str:
    key_id: str = kms_client.create_key(Description="lambdashield tests")["KeyMetadata"]["KeyId"]
    return key_id


@pytest.fixture
def kms(kms_endpoint: str, kms_key: str) -> KmsEnvelopeProvider:
    return KmsEnvelopeProvider(kms_key, region_name="us-east-1", endpoint_url=kms_endpoint)


def test_kms_round_trip_over_http(
    kms: KmsEnvelopeProvider, kms_endpoint: str, kms_key: str
) -> None:
    encrypted = encrypt_fields(RECORD, FIELDS, kms, context=CONTEXT)
    assert "4111" not in str(encrypted)
    assert decrypt_fields(encrypted, FIELDS, kms, context=CONTEXT) == RECORD
    fresh = KmsEnvelopeProvider(kms_key, region_name="us-east-1", endpoint_url=kms_endpoint)
    assert decrypt_fields(encrypted, FIELDS, fresh, context=CONTEXT) == RECORD
    assert fresh.kms_calls == 1, "one Decrypt for the one data key"


def test_kms_data_keys_are_cached_per_context(kms: KmsEnvelopeProvider) -> None:
    for _ in range(5):
        encrypt_fields({"card": "x"}, ["card"], kms, context=CONTEXT)
    assert kms.kms_calls == 1
    encrypt_fields({"card": "x"}, ["card"], kms, context=OTHER_CONTEXT)
    assert kms.kms_calls == 2


def test_kms_data_keys_have_a_bounded_use_count(kms_endpoint: str, kms_key: str) -> None:
    provider = KmsEnvelopeProvider(
        kms_key, region_name="us-east-1", endpoint_url=kms_endpoint, max_uses=2
    )
    for _ in range(5):
        encrypt_fields({"card": "x"}, ["card"], provider, context=CONTEXT)
    assert provider.kms_calls == 3


def test_kms_data_keys_have_a_bounded_lifetime(
    kms_endpoint: str, kms_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [1000.0]
    monkeypatch.setattr(crypto.time, "monotonic", lambda: now[0])
    provider = KmsEnvelopeProvider(
        kms_key, region_name="us-east-1", endpoint_url=kms_endpoint, max_age_s=60
    )
    token = encrypt_fields({"card": "x"}, ["card"], provider, context=CONTEXT)
    now[0] += 59
    encrypt_fields({"card": "x"}, ["card"], provider, context=CONTEXT)
    assert provider.kms_calls == 1
    now[0] += 2
    encrypt_fields({"card": "x"}, ["card"], provider, context=CONTEXT)
    assert provider.kms_calls == 2
    provider.clear_cache()
    decrypt_fields(token, ["card"], provider, context=CONTEXT)
    assert provider.kms_calls == 3


def test_kms_wrong_context_is_a_context_mismatch(kms: KmsEnvelopeProvider) -> None:
    encrypted = encrypt_fields({"card": "x"}, ["card"], kms, context=CONTEXT)
    with pytest.raises(EncryptionContextMismatchError) as caught:
        decrypt_fields(encrypted, ["card"], kms, context=OTHER_CONTEXT)
    assert caught.value.field == "card"


def test_kms_itself_refuses_the_data_key_under_another_context(
    kms: KmsEnvelopeProvider, kms_client: Any, kms_key: str
) -> None:
    """Forge the header's context fingerprint: the request reaches KMS, which refuses."""
    token = encrypt_fields({"card": "x"}, ["card"], kms, context=CONTEXT)["card"]
    other = encrypt_fields({"card": "x"}, ["card"], kms, context=OTHER_CONTEXT)["card"]
    assert isinstance(token, str)
    assert isinstance(other, str)

    def raw(value: str) -> bytes:
        body = value[len(ENCRYPTED_PREFIX) :]
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))

    forged = raw(other)[:12] + raw(token)[12:]
    fresh = KmsEnvelopeProvider(kms_key, client=kms_client)
    with pytest.raises(TamperedCiphertextError, match="InvalidCiphertextException"):
        fresh.decrypt(forged, context=OTHER_CONTEXT)
    assert fresh.kms_calls == 1


def test_kms_changed_ciphertext_is_detected(kms: KmsEnvelopeProvider) -> None:
    token = encrypt_fields({"card": "x"}, ["card"], kms, context=CONTEXT)["card"]
    assert isinstance(token, str)
    # Past moto's key ID at the start of the encrypted data key (changing the ID there makes
    # KMS look up another key: AccessDenied), and in the sealed value.
    for at in (70, -1):
        with pytest.raises(TamperedCiphertextError):
            decrypt_fields({"card": _flip(token, at)}, ["card"], kms, context=CONTEXT)


def test_kms_errors_carry_the_aws_error_code(kms_endpoint: str) -> None:
    missing = KmsEnvelopeProvider(
        "alias/does-not-exist", region_name="us-east-1", endpoint_url=kms_endpoint
    )
    with pytest.raises(KmsError) as caught:
        encrypt_fields({"card": "x"}, ["card"], missing, context=CONTEXT)
    assert caught.value.operation == "GenerateDataKey"
    assert caught.value.code == "NotFoundException"


def test_kms_provider_checks_its_bounds() -> None:
    with pytest.raises(ValueError, match="key_id"):
        KmsEnvelopeProvider("")
    with pytest.raises(ValueError, match="max_age_s"):
        KmsEnvelopeProvider("alias/x", max_age_s=0)
