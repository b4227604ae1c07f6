"""Property-based: the IAM analysis never raises, whatever policy-shaped JSON it gets."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdashield.checks import ALL_RULES, subjects
from lambdashield.loaders.policies import policy_from_json
from lambdashield.model import Origin

ORIGIN = Origin(PurePosixPath("p.json"), "p.json", "policy")

words = st.sampled_from(
    [
        "*",
        "s3:*",
        "s3:Get*",
        "iam:PassRole",
        "lambda:CreateFunction",
        "sts:AssumeRole",
        "dynamodb:Scan",
        "nope:Nothing",
        "S3:getobject",
        "s3:Get?bject",
        "iam",
        ":",
        "",
        "arn:aws:s3:::b/*",
        "arn:aws:s3:::b",
        "arn:*:*:*:*:*",
        "${aws:username}",
        "Allow",
        "Deny",
        "aws:SourceArn",
        "StringEquals",
        "iam:PassedToService",
        "*:*",
        "?",
    ]
)
scalars = st.one_of(words, st.text(max_size=8), st.integers(), st.booleans(), st.none())
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(words, inner, max_size=4),
    max_leaves=20,
)
statement = st.fixed_dictionaries(
    {},
    optional={
        "Sid": st.one_of(words, json_values),
        "Effect": st.one_of(st.sampled_from(["Allow", "Deny"]), json_values),
        "Action": st.one_of(words, st.lists(words, max_size=4), json_values),
        "NotAction": st.one_of(words, st.lists(words, max_size=3), json_values),
        "Resource": st.one_of(words, st.lists(words, max_size=3), json_values),
        "NotResource": st.one_of(words, json_values),
        "Principal": json_values,
        "Condition": st.one_of(
            st.dictionaries(words, st.dictionaries(words, st.one_of(words, st.lists(words)))),
            json_values,
        ),
    },
)
policy = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"Statement": st.one_of(statement, st.lists(statement, max_size=4), json_values)},
        optional={"Version": st.one_of(st.sampled_from(["2012-10-17", "2008-10-17"]), json_values)},
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policy)
def test_analysis_never_raises(data: Any) -> None:
    document = policy_from_json(data, ORIGIN)
    for _, scope, subject in subjects([document]):
        for rule in ALL_RULES:
            if rule.scope is scope:
                for hit in rule(subject):
                    assert hit.pointer.startswith("/") or hit.pointer == ""
                    assert hit.message
