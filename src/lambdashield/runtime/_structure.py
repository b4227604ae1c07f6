"""Structure checks for sources without a dedicated validator: required fields and types.

Detection looks at which keys exist; these tables also demand the types a handler relies on,
so that `event["request"]["userAttributes"]` in a Cognito trigger cannot meet a string.
"""

from __future__ import annotations

from . import _s3
from ._fields import req_list
from .exceptions import EventValidationError
from .views import EventView

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .options import S3Options

__all__ = ["validate_eventbridge", "validate_records_shape", "validate_structure"]

_SPECS: dict[str, tuple[tuple[str, type | tuple[type, ...]], ...]] = {
    "eventbridge": (
        ("/detail-type", str),
        ("/source", str),
        ("/detail", dict),
        ("/id", str),
        ("/account", str),
        ("/region", str),
        ("/time", str),
        ("/resources", list),
    ),
    "cloudwatch_logs": (("/awslogs", dict), ("/awslogs/data", str)),
    "cloudwatch_alarm": (
        ("/alarmArn", str),
        ("/alarmData", dict),
        ("/source", str),
        ("/accountId", str),
        ("/region", str),
    ),
    "cloudwatch_dashboard": (("/widgetContext", dict),),
    "cloudformation_custom_resource": (
        ("/RequestType", str),
        ("/ResponseURL", str),
        ("/StackId", str),
        ("/RequestId", str),
        ("/LogicalResourceId", str),
        ("/ResourceType", str),
    ),
    "codedeploy_lifecycle_hook": (
        ("/DeploymentId", str),
        ("/LifecycleEventHookExecutionId", str),
    ),
    "codepipeline_job": (
        ("/CodePipeline.job", dict),
        ("/CodePipeline.job/id", str),
        ("/CodePipeline.job/data", dict),
    ),
    "cognito_userpool_trigger": (
        ("/triggerSource", str),
        ("/userPoolId", str),
        ("/region", str),
        ("/request", dict),
        ("/callerContext", dict),
        ("/version", str),
    ),
    "cognito_sync": (
        ("/identityPoolId", str),
        ("/identityId", str),
        ("/datasetName", str),
        ("/datasetRecords", dict),
        ("/eventType", str),
    ),
    "config_rule": (
        ("/configRuleName", str),
        ("/invokingEvent", str),
        ("/resultToken", str),
        ("/accountId", str),
    ),
    "secrets_manager_rotation": (
        ("/SecretId", str),
        ("/ClientRequestToken", str),
        ("/Step", str),
    ),
    "bedrock_agent": (
        ("/messageVersion", str),
        ("/agent", dict),
        ("/actionGroup", str),
        ("/sessionId", str),
    ),
    "lex_v1": (
        ("/currentIntent", dict),
        ("/bot", dict),
        ("/invocationSource", str),
        ("/userId", str),
    ),
    "lex_v2": (
        ("/sessionState", dict),
        ("/bot", dict),
        ("/invocationSource", str),
        ("/sessionId", str),
    ),
    "sagemaker_ground_truth": (("/labelingJobArn", str), ("/version", str)),
    "workmail": (
        ("/summaryVersion", str),
        ("/envelope", dict),
        ("/flowDirection", str),
        ("/messageId", str),
    ),
    "appsync_authorizer": (
        ("/authorizationToken", str),
        ("/requestContext", dict),
        ("/requestContext/apiId", str),
    ),
    "appsync_resolver": (("/arguments", dict),),
    "connect_contact_flow": (("/Details", dict), ("/Name", str)),
    "alexa_skill": (
        ("/version", str),
        ("/request", dict),
        ("/request/type", str),
        ("/request/requestId", str),
    ),
}
"""Per source: JSON pointers that must exist, with the type each must have."""

_RECORD_SHAPES = {
    "ses": ("eventSource", "aws:ses"),
    "codecommit": ("eventSource", "aws:codecommit"),
    "cloudfront_lambda_edge": ("cf", None),
}
"""`Records` sources checked for uniformity: the key every record has, and its value."""


def validate_structure(source: str, event: object) -> EventView:
    if source == "appsync_resolver_batch" and isinstance(event, list):
        # detect() saw a non-empty list of resolver events; each must hold together.
        for index, item in enumerate(event):
            _check_specs(item, _SPECS["appsync_resolver"], f"/{index}")
        return EventView(source, event)
    if not isinstance(event, dict):
        raise EventValidationError("not_an_object", "")
    _check_specs(event, _SPECS.get(source, ()), "")
    return EventView(source, event)


def _check_specs(
    event: object, specs: tuple[tuple[str, type | tuple[type, ...]], ...], prefix: str
) -> None:
    for pointer, kind in specs:
        node = event
        for segment in pointer[1:].split("/"):
            node = node.get(segment) if isinstance(node, dict) else None
            if node is None:
                raise EventValidationError("missing_field", prefix + pointer)
        if not isinstance(node, kind):
            raise EventValidationError("wrong_type", prefix + pointer)


def validate_eventbridge(source: str, event: dict[str, object], s3: S3Options) -> EventView:
    _check_specs(event, _SPECS["eventbridge"], "")
    if event.get("source") == "aws.s3" and s3.nested:
        detail = event.get("detail")
        if isinstance(detail, dict) and "object" in detail:
            return EventView(source, event, _s3.validate_eventbridge_s3(event, s3))
    return EventView(source, event)


def validate_records_shape(source: str, event: dict[str, object]) -> EventView:
    key, expected = _RECORD_SHAPES[source]
    records = req_list(event, "Records", "/Records")
    for index, record in enumerate(records):
        at = f"/Records/{index}"
        if not isinstance(record, dict):
            raise EventValidationError("wrong_type", at)
        value = record.get(key)
        if value is None or (expected is not None and value != expected):
            raise EventValidationError("mixed_sources", f"{at}/{key}")
    return EventView(source, event)


RECORD_SHAPE_SOURCES = frozenset(_RECORD_SHAPES)
