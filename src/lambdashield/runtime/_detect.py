"""Which AWS service sent an event, from its shape alone.

The labels are those of the event corpus index (`apigw_rest_v1`, `s3`, `sqs`, ...). A label
names the outer envelope: S3 notifications delivered through SQS are `sqs`. Detection only
looks at keys and a few discriminating values, in an order that settles the common HTTP and
record-based shapes first; validation then checks that the shape holds together.
"""

from __future__ import annotations

__all__ = ["SOURCES", "UNKNOWN", "detect"]

UNKNOWN = "unknown"

_RECORD_SOURCES = {
    "aws:s3": "s3",
    "aws:sqs": "sqs",
    "aws:sns": "sns",
    "aws:dynamodb": "dynamodb_stream",
    "aws:kinesis": "kinesis_stream",
    "aws:ses": "ses",
    "aws:codecommit": "codecommit",
}
"""`eventSource` (`EventSource` for SNS) of the first record of a `Records` list."""

_EVENT_SOURCES = {
    "aws:kafka": "kafka_msk",
    "aws:SelfManagedKafka": "kafka_self_managed",
    "SelfManagedKafka": "kafka_self_managed",
    "aws:amq": "activemq",
    "aws:rmq": "rabbitmq",
    "aws:docdb": "documentdb",
}
"""Top-level `eventSource` of the poller-based sources that have no `Records` list."""

_BY_KEYS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("eventbridge", ("detail-type", "source", "detail")),
    ("cloudwatch_logs", ("awslogs",)),
    ("cloudwatch_alarm", ("alarmArn", "alarmData")),
    ("cloudwatch_dashboard", ("widgetContext",)),
    ("cloudformation_custom_resource", ("RequestType", "ResponseURL", "StackId")),
    ("codedeploy_lifecycle_hook", ("DeploymentId", "LifecycleEventHookExecutionId")),
    ("codepipeline_job", ("CodePipeline.job",)),
    ("cognito_userpool_trigger", ("triggerSource", "userPoolId")),
    ("cognito_sync", ("identityPoolId", "datasetRecords")),
    ("config_rule", ("configRuleName", "invokingEvent", "resultToken")),
    ("s3_object_lambda", ("getObjectContext", "userRequest")),
    ("s3_batch_operation", ("invocationSchemaVersion", "tasks", "job")),
    ("secrets_manager_rotation", ("SecretId", "ClientRequestToken", "Step")),
    ("kinesis_analytics", ("invocationId", "applicationArn", "records")),
    ("kinesis_firehose", ("invocationId", "records")),
    ("bedrock_agent", ("messageVersion", "agent", "actionGroup")),
    ("lex_v2", ("sessionState", "bot", "invocationSource")),
    ("lex_v1", ("currentIntent", "bot", "invocationSource")),
    ("sagemaker_ground_truth", ("labelingJobArn", "version")),
    ("workmail", ("summaryVersion", "envelope", "flowDirection")),
    ("vpc_lattice_v1", ("raw_path", "method")),
    ("apigw_authorizer_token", ("authorizationToken", "methodArn", "type")),
)
"""Shapes recognised by the presence of a few keys, tried in order."""

SOURCES = frozenset(
    {
        "apigw_rest_v1",
        "apigw_http_v2",
        "apigw_websocket",
        "apigw_authorizer_token",
        "apigw_authorizer_request",
        "apigw_authorizer_v2",
        "alb",
        "lambda_function_url",
        "vpc_lattice_v1",
        "vpc_lattice_v2",
        "alexa_skill",
        "alexa_smart_home",
        "appsync_authorizer",
        "appsync_resolver",
        "appsync_resolver_batch",
        "connect_contact_flow",
        *_RECORD_SOURCES.values(),
        "cloudfront_lambda_edge",
        *_EVENT_SOURCES.values(),
        *(label for label, _ in _BY_KEYS),
    }
)
"""Every label `detect` can return besides `unknown`."""


def detect(event: object) -> str:
    """The source label of `event`, or `"unknown"` when no known shape fits."""
    if isinstance(event, dict):
        return _detect_object(event)
    if isinstance(event, list) and event and all(map(_is_appsync_resolver, event)):
        return "appsync_resolver_batch"
    return UNKNOWN


def _detect_object(event: dict[str, object]) -> str:
    records = event.get("Records")
    if records is not None:
        return _detect_records(records)
    context = event.get("requestContext")
    if isinstance(context, dict):
        label = _detect_with_context(event, context)
        if label is not None:
            return label
    source = event.get("eventSource")
    if isinstance(source, str) and source in _EVENT_SOURCES:
        return _EVENT_SOURCES[source]
    for label, keys in _BY_KEYS:
        # Most shapes fail on their first key; only those that pass it pay for the rest.
        if keys[0] in event and all(key in event for key in keys):
            return label
    return _detect_other(event)


def _detect_records(records: object) -> str:
    if not isinstance(records, list) or not records or not isinstance(records[0], dict):
        return UNKNOWN
    first = records[0]
    source = first.get("eventSource", first.get("EventSource"))
    if isinstance(source, str) and source in _RECORD_SOURCES:
        return _RECORD_SOURCES[source]
    if "cf" in first:
        return "cloudfront_lambda_edge"
    return UNKNOWN


def _detect_with_context(event: dict[str, object], context: dict[str, object]) -> str | None:
    """The shapes that carry a `requestContext`: HTTP sources, authorizers, AppSync."""
    if "httpMethod" in event:
        if "elb" in context:
            return "alb"
        if event.get("type") == "REQUEST" and "methodArn" in event:
            return "apigw_authorizer_request"
        return "apigw_rest_v1" if "path" in event else None
    if "connectionId" in context and "eventType" in context:
        return "apigw_websocket"
    if event.get("version") == "2.0":
        if "rawPath" in event and "routeKey" in event:
            return _detect_http_v2(event, context)
        if "method" in event and ("serviceNetworkArn" in context or "serviceArn" in context):
            return "vpc_lattice_v2"
    if "authorizationToken" in event and "apiId" in context:
        return "appsync_authorizer"
    return None


def _detect_http_v2(event: dict[str, object], context: dict[str, object]) -> str:
    if event.get("type") == "REQUEST" and "routeArn" in event:
        return "apigw_authorizer_v2"
    domain = context.get("domainName")
    if isinstance(domain, str) and ".lambda-url." in domain:
        return "lambda_function_url"
    return "apigw_http_v2"


def _detect_other(event: dict[str, object]) -> str:
    """Shapes that need a look at values, not only keys."""
    if _is_appsync_resolver(event):
        return "appsync_resolver"
    if event.get("Name") == "ContactFlowEvent" and "Details" in event:
        return "connect_contact_flow"
    request = event.get("request")
    if isinstance(request, dict) and "version" in event and "requestId" in request:
        return "alexa_skill"
    header = event.get("header")
    if isinstance(header, dict) and "namespace" in header and "payload" in event:
        return "alexa_smart_home"
    directive = event.get("directive")
    if isinstance(directive, dict) and isinstance(directive.get("header"), dict):
        return "alexa_smart_home"
    return UNKNOWN


def _is_appsync_resolver(event: object) -> bool:
    return (
        isinstance(event, dict)
        and "arguments" in event
        and ("info" in event or "fieldName" in event)
    )
