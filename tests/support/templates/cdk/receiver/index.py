import json


def handler(event, context):
    print("RECORD " + json.dumps(event))
