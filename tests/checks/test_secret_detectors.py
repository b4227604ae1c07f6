"""The secret detectors behind LS-SEC-001 and LS-SEC-002, case by case.

No real secret appears here: AWS keys are AWS's documented examples, other tokens are
padded with `EXAMPLE` or built from repeated characters.
"""

from __future__ import annotations

import pytest

from lambdashield.checks.secrets import (
    connection_password,
    detect,
    high_entropy,
    is_placeholder,
    is_reference,
    known_format,
    mask,
    secret_reference,
    sensitive_name,
    shannon_entropy,
)

AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # noqa: S105 - AWS documentation example
JWT = (
    "eyJhbGciOiAiSFMyNTYiLCAidHlwIjogIkpXVCJ9."
    "eyJzdWIiOiAib3JkZXJzLXNlcnZpY2UiLCAiaXNzIjogImV4YW1wbGUifQ."
    "EXAMPLEsignatureEXAMPLEsignature0"
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (AWS_KEY_ID, "aws-access-key-id"),
        ("ASIAIOSFODNN7EXAMPLE", "aws-access-key-id"),
        (f"key={AWS_KEY_ID};region=us-east-1", "aws-access-key-id"),
        ("ghp_EXAMPLE0123456789abcdefghijklmnopqrs", "github-token"),
        ("gho_EXAMPLE0123456789abcdefghijklmnopqrs", "github-token"),
        ("github_pat_11EXAMPLE0_" + "a" * 59, "github-fine-grained-token"),
        ("glpat-EXAMPLEexample012345", "gitlab-token"),
        ("xoxb-000000000000-000000000000-EXAMPLEexampleEXAMPLE", "slack-token"),
        ("xoxp-0000000000-EXAMPLE", "slack-token"),
        (
            "https://hooks.slack.com/services/T00000000/B00000000/EXAMPLEexampleEXAMPLE",
            "slack-webhook",
        ),
        ("sk_live_EXAMPLEEXAMPLEEXAMPLE0123", "stripe-live-key"),
        ("rk_live_EXAMPLEEXAMPLEEXAMPLE0123", "stripe-live-key"),
        ("AIzaSyD-EXAMPLE-EXAMPLEEXAMPLE012345678", "google-api-key"),
        ("npm_" + "E" * 36, "npm-token"),
        ("SG.EXAMPLEexample012345.EXAMPLEexampleEXAMPLEexample0123456789abcde", "sendgrid-key"),
        ("sk-proj-EXAMPLEexampleEXAMPLE0123456789", "llm-api-key"),
        ("sk-ant-api03-EXAMPLEexampleEXAMPLE0123456789", "llm-api-key"),
        (JWT, "jwt"),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEXAMPLE\n-----END RSA PRIVATE KEY-----",
            "private-key",
        ),
        ("-----BEGIN PRIVATE KEY-----\nMIIEXAMPLE", "private-key"),
        ("-----BEGIN OPENSSH PRIVATE KEY-----", "private-key"),
        ("-----BEGIN PGP PRIVATE KEY BLOCK-----", "private-key"),
    ],
)
def test_known_formats(value: str, expected: str) -> None:
    found = known_format(value)
    assert found is not None and found[0] == expected


@pytest.mark.parametrize(
    "value",
    [
        "AKIAIOSFODNN7EXAMPL",  # 19 characters
        "XAKIAIOSFODNN7EXAMPLE0",  # glued into a longer word
        "AKIAiosfodnn7example",  # lower case
        "ghp_short",
        "sk_test_EXAMPLEEXAMPLEEXAMPLE0123",  # test keys are not live credentials
        "pk_live_EXAMPLEEXAMPLEEXAMPLE0123",  # publishable key: public by design
        "xoxz-000000000000-EXAMPLE",
        "AIzaSyD-tooshort",
        "eyJhbGciOiJIUzI1NiJ9",  # a JWT header alone
        "-----BEGIN PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----",
        "https://hooks.slack.com/",
        "sk-1234",
        "arn:aws:iam::123456789012:role/orders",
        "orders-prod",
    ],
)
def test_not_known_formats(value: str) -> None:
    assert known_format(value) is None


@pytest.mark.parametrize(
    ("name", "word"),
    [
        ("DB_PASSWORD", "password"),
        ("dbPassword", "password"),
        ("DBPassword", "password"),
        ("db-passwd", "passwd"),
        ("MYSQL_PWD", "pwd"),
        ("SMTP_PASS", "pass"),
        ("JWT_SECRET", "secret"),
        ("clientSecret", "secret"),
        ("GITHUB_TOKEN", "token"),
        ("x-api-key", "api key"),
        ("ApiKey", "api key"),
        ("APIKEY", "apikey"),
        ("STRIPE_SECRET_KEY", "secret"),
        ("PRIVATE_KEY", "private key"),
        ("signingPrivateKey", "private key"),
        ("SERVICE_CREDENTIALS", "credentials"),
        ("SENTRY_DSN", "dsn"),
        ("DATABASE_CONNECTION_STRING", "connection string"),
        ("LICENSE_KEY", "license key"),
    ],
)
def test_sensitive_names(name: str, word: str) -> None:
    assert sensitive_name(name) == word


@pytest.mark.parametrize(
    "name",
    [
        "PASSWORD_PARAM",
        "DB_PASSWORD_PARAMETER_NAME",
        "DB_PASSWORD_SSM_NAME",
        "SECRET_ARN",
        "SECRET_NAME",
        "SECRET_ID",
        "API_KEY_SSM",
        "TOKEN_TTL",
        "TOKEN_TTL_SECONDS",
        "PASSWORD_MIN_LENGTH",
        "PASSWORD_POLICY",
        "TOKEN_TABLE",
        "SECRETS_BUCKET",
        "TOKEN_ENDPOINT",
        "TOKEN_URL",
        "ACCESS_KEY_ID",
        "TOKEN_VALIDATION",
        "KMS_KEY",
        "PUBLIC_KEY",
        "PWD",
        "TABLE_NAME",
        "BYPASS_CACHE",
        "KEY",
        "CACHE_KEY",
        "",
    ],
)
def test_names_that_are_not_sensitive(name: str) -> None:
    assert sensitive_name(name) is None


@pytest.mark.parametrize(
    "value",
    [
        "{{resolve:secretsmanager:orders/db:SecretString:password}}",
        "{{resolve:ssm-secure:/orders/db/password:3}}",
        "{{resolve:ssm:/orders/api-token}}",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:orders/db-AbCdEf",
        "arn:aws:ssm:us-east-1:123456789012:parameter/orders/db/password",
        "/orders/prod/db/password",
        "${Ref DbPassword}",
        "${ssm:/orders/db/password}",
    ],
)
def test_references(value: str) -> None:
    assert is_reference(value)
    assert detect("DB_PASSWORD", value) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "<password>",
        "${DB_PASSWORD}",
        "{{password}}",
        "%PASSWORD%",
        "__PASSWORD__",
        "xxxx",
        "****",
        "...",
        "-",
        "TODO",
        "changeme",
        "CHANGE_ME",
        "replace-me",
        "placeholder",
        "none",
        "null",
        "N/A",
        "true",
        "False",
        "redacted",
    ],
)
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)
    assert detect("DB_PASSWORD", value) is None


@pytest.mark.parametrize("value", ["hunter2!", "password", "secret", "Tr0ub4dor&3", "p"])
def test_real_values_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


@pytest.mark.parametrize(
    "value",
    [
        "postgres://orders:s3cr3t@db.internal.example:5432/orders",
        "mysql+pymysql://app:Tr0ub4dor@db:3306/shop",
        "redis://:s3cr3t@cache.internal.example:6379/0",
        "mongodb+srv://svc:pa55word@cluster0.example.mongodb.net/orders",
        "amqps://worker:s3cr3t@mq.example:5671",
        "Server=db.example;Database=orders;User Id=app;Password=s3cr3t;",
        "jdbc:postgresql://db:5432/orders?user=app&password=s3cr3t",
    ],
)
def test_connection_strings_with_passwords(value: str) -> None:
    assert connection_password(value)
    hint = detect("DATABASE_URL", value)
    assert hint is not None and hint.code == "connection-string"


@pytest.mark.parametrize(
    "value",
    [
        "postgres://db.internal.example:5432/orders",
        "postgres://orders@db.internal.example:5432/orders",
        "postgres://orders:${Ref DbPassword}@db:5432/orders",
        "postgres://orders:{{resolve:secretsmanager:db:SecretString:password}}@db:5432/orders",
        "postgres://orders:<password>@db:5432/orders",
        "https://user:@example.com/",
        "Server=db.example;Database=orders;Integrated Security=true;",
        "jdbc:postgresql://db:5432/orders?user=app&password=",
        "https://example.com/path?redirect=/login",
    ],
)
def test_connection_strings_without_passwords(value: str) -> None:
    assert not connection_password(value)


def test_aws_secret_key_needs_context() -> None:
    by_neighbour = detect("BACKUP_SIGNING", AWS_SECRET, near_key_id=True)
    assert by_neighbour is not None and by_neighbour.code == "aws-secret-access-key"
    by_name = detect("AWS_SECRET_ACCESS_KEY_BACKUP", AWS_SECRET)
    assert by_name is not None and by_name.code == "aws-secret-access-key"
    # A 40-character value with no key ID beside it and a plain name: random, but weak.
    alone = detect("CHECKSUM", AWS_SECRET)
    assert alone is None or alone.weak


@pytest.mark.parametrize(
    ("name", "value", "code"),
    [
        ("DB_PASSWORD", "Tr0ub4dor-and-3", "name:password"),
        ("smtpPass", "hunter22", "name:pass"),
        ("DB_PASSWORD", "password", "name:password"),  # a weak real password is still one
        ("ANY_NAME", AWS_KEY_ID, "aws-access-key-id"),
        ("PASSWORD_PARAM", AWS_KEY_ID, "aws-access-key-id"),  # formats win over names
        ("SESSION_SEED", "q7Xr2Lp9Vb4Nz8Kd3Wm6Yt1Hs5Jf0GaE", "entropy"),
        ("SIGNING", JWT, "jwt"),
    ],
)
def test_detect(name: str, value: str, code: str) -> None:
    hint = detect(name, value)
    assert hint is not None and hint.code == code
    assert hint.weak == (code == "entropy")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DB_PASSWORD", 1234),
        ("DB_PASSWORD", None),
        ("DB_PASSWORD", {"Fn::If": ["Prod", "a", "b"]}),
        ("DB_PASSWORD", "abc"),  # too short to tell from a placeholder
        ("TOKEN_TTL", "3600"),
        ("TABLE_NAME", "CheckoutOrdersTable2024Production"),
        ("BUCKET", "orders-prod-uploadsbucket-1A2B3C4D5E6F"),
        ("COGNITO_CLIENT_ID", "1example23456789abcdefghij"),
        ("KMS_KEY_ID", "1234abcd-12ab-34cd-56ef-1234567890ab"),
        ("BUILD_SHA", "9fceb02d0ae598e95dc970b74767f19372d61af8"),
        ("LOG_LEVEL", "INFO"),
        ("SECRET_NAME", "q7Xr2Lp9Vb4Nz8Kd3Wm6Yt1Hs5Jf0GaE"),  # named as a reference
        ("GREETING", "Hello there, welcome to the Orders service 2024"),
    ],
)
def test_detect_nothing(name: str, value: object) -> None:
    assert detect(name, value) is None


def test_entropy() -> None:
    assert shannon_entropy("") == 0.0
    assert shannon_entropy("aaaa") == 0.0
    assert shannon_entropy("abcd") == pytest.approx(2.0)
    assert high_entropy("q7Xr2Lp9Vb4Nz8Kd3Wm6Yt1Hs5Jf0GaE")
    assert high_entropy("SG4aZq81mJxPp0LwT2vQk9RbNc")
    assert not high_entropy("q7Xr2Lp9Vb4Nz8Kd")  # short
    assert not high_entropy("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa11")
    assert not high_entropy("MyServiceOrdersTable2024Prod")


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (AWS_KEY_ID, "`AKIA...`, 20 characters"),
        ("hunter22", "`hu...`, 8 characters"),
        ("hunter2", "7 characters"),
        ("", "0 characters"),
    ],
)
def test_mask_never_shows_more_than_a_prefix(value: str, shown: str) -> None:
    assert mask(value) == shown
    assert value[4:] == "" or value[4:] not in mask(value)


@pytest.mark.parametrize(
    ("expression", "label"),
    [
        ("${DeployUserKey.SecretAccessKey}", "an IAM user's secret access key"),
        ("aws_iam_access_key.deploy.secret", "an IAM user's secret access key"),
        ("aws_iam_access_key.mail.ses_smtp_password_v4", "an SES SMTP password"),
        ("random_password.db.result", "a generated password"),
        ("postgres://app:${random_password.db.result}@db/orders", "a generated password"),
    ],
)
def test_secret_references(expression: str, label: str) -> None:
    found = secret_reference(expression)
    assert found is not None and found[0] == label


@pytest.mark.parametrize(
    "expression",
    [
        "${DeployUserKey.Arn}",
        "aws_iam_access_key.deploy.id",
        "random_password.db.length",
        "random_string.suffix.result",
        "aws_secretsmanager_secret.db.arn",
    ],
)
def test_not_secret_references(expression: str) -> None:
    assert secret_reference(expression) is None
