import json
import os


def handler(event, context):
    print("EVENT " + json.dumps(event))
    if isinstance(event, dict) and event.get("fail"):
        raise RuntimeError("asked to fail")
    return {"ok": True, "stage": os.environ.get("STAGE"), "function": context.function_name}
