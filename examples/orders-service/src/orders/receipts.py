"""Receipt handler: called for each uploaded receipt and from its function URL."""

import json


def handler(event, context):
    print(json.dumps(event))
    return {"statusCode": 200, "body": "ok"}
