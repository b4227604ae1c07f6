"""Orders API handler: creates an order from a POST /orders request."""

import json
import os
import uuid

import boto3

TABLE = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])


def handler(event, context):
    print(event)  # logs the whole request, headers and body included
    order = json.loads(event["body"])
    order["orderId"] = str(uuid.uuid4())
    TABLE.put_item(Item=order)
    return {"statusCode": 201, "body": json.dumps({"orderId": order["orderId"]})}
