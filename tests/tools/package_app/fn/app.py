"""Says hello with the event it got."""


def handler(event, context):
    return {"hello": event.get("name", "world")}
