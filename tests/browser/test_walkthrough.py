"""The AWS Lambda Destinations announcement, through the console alone.

Everything is done in the browser against a real server (time scale 0.01): create the
Node.js function with the article's code, create the SNS topic (with a queue subscribed,
to see the success record arrive) and the failure function, add an SNS destination On
success and a Lambda destination On failure in the Designer, test asynchronously with
{"Success": true} and {"Success": false}, and find both records on the event timelines.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.browser.conftest import ConsolePage, expect

ACCOUNT_REGION = "us-east-1:000000000000"
ARTICLE_CODE = (Path(__file__).resolve().parents[1] / "support" / "seed" / "index.js").read_text()
FAILURE_CODE = """exports.handler = async (event) => {
  console.log('EVENT\\n' + JSON.stringify(event, null, 2));
  return 'logged';
};
"""


def create_function(console: ConsolePage, name: str, code: str) -> None:
    page = console.page
    console.goto("/console/functions")
    page.get_by_role("link", name="Create function").click()
    page.get_by_label("Function name").fill(name)
    page.get_by_label("Runtime").select_option("nodejs20.x")
    expect(page.get_by_label("Handler")).to_have_value("index.handler")
    page.get_by_label("Code", exact=True).fill(code)
    page.get_by_role("button", name="Create function").click()
    expect(page.locator(".notice")).to_contain_text(f"Function {name} was created.")
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def add_destination(console: ConsolePage, condition: str, kind: str, arn: str) -> None:
    page = console.page
    page.get_by_role("link", name="Add destination").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Add destination")
    page.get_by_label("Source").select_option(label="Asynchronous invocation")
    page.get_by_label(condition, exact=True).check()
    page.get_by_label("Destination type").select_option(label=kind)
    page.get_by_label("Destination", exact=True).fill(arn)
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_contain_text("The destination was saved")


def invoke_async(console: ConsolePage, function: str, payload: str) -> str:
    """The Test tab: an asynchronous invoke; follows the request id to its timeline."""
    page = console.page
    page.get_by_role("navigation", name=function).get_by_role("link", name="Test").click()
    page.get_by_label("Asynchronous (Event)", exact=False).check()
    page.get_by_label("Event JSON").fill(payload)
    page.get_by_role("button", name="Test", exact=True).click()
    accepted = page.locator("#accepted-request")
    expect(accepted).to_be_visible()
    request_id = accepted.inner_text().strip()
    accepted.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Asynchronous event")
    return request_id


def test_destinations_walkthrough(console: ConsolePage) -> None:
    page = console.page
    console.goto("/console")
    expect(page.get_by_text("No functions yet.")).to_be_visible()
    console.screenshot("functions-empty")

    # The destination resources first: an SNS topic (with a queue to read it) and a function.
    console.goto("/console/queues")
    page.get_by_label("Queue name").fill("success-records")
    page.get_by_role("button", name="Create queue").click()
    expect(page.locator(".notice")).to_contain_text("Queue success-records was created.")
    console.goto("/console/topics")
    page.get_by_label("Topic name").fill("destinations")
    page.get_by_role("button", name="Create topic").click()
    expect(page.locator(".notice")).to_contain_text("Topic destinations was created.")
    page.get_by_label("Protocol").select_option("sqs")
    page.get_by_label("Endpoint").fill(f"arn:aws:sqs:{ACCOUNT_REGION}:success-records")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.locator(".notice")).to_contain_text("Subscribed")
    console.screenshot("topic")
    create_function(console, "destination-failure", FAILURE_CODE)

    # The article: create the function, paste its code.
    create_function(console, "event-destinations", ARTICLE_CODE)
    console.goto("/console/functions/event-destinations/code")
    expect(page.get_by_label("index.js")).to_have_value(ARTICLE_CODE)
    console.goto("/console/functions/event-destinations")

    # Designer: Add destination, On success -> SNS topic; On failure -> Lambda function.
    add_destination(
        console, "On success", "SNS topic", f"arn:aws:sns:{ACCOUNT_REGION}:destinations"
    )
    success = page.locator("#destination-on-success")
    expect(success).to_contain_text("SNS topic")
    expect(success.get_by_role("link", name="destinations")).to_have_attribute(
        "href", "/console/topics/destinations"
    )
    add_destination(console, "On failure", "Lambda function",
                    f"arn:aws:lambda:{ACCOUNT_REGION}:function:destination-failure")  # fmt: skip
    failure = page.locator("#destination-on-failure")
    expect(failure).to_contain_text("Lambda function")
    expect(failure.get_by_role("link", name="destination-failure")).to_be_visible()
    console.screenshot("designer")

    # Success testing: {"Success": true} asynchronously; the record goes to the topic.
    console.goto("/console/functions/event-destinations")
    ok_id = invoke_async(console, "event-destinations", '{ "Success": true }')
    expect(page.locator(".step-title", has_text=re.compile("^Succeeded$"))).to_be_visible()
    record = page.locator("#execution-record")
    expect(record).to_contain_text('"condition": "Success"')
    expect(record).to_contain_text(f'"requestId": "{ok_id}"')
    expect(record).to_contain_text('"Success": true')
    where = page.get_by_role("region", name="Where the record went")
    expect(where).to_contain_text("SNS topic")
    expect(where.locator(".badge")).to_have_text("succeeded")
    console.screenshot("event-success")

    # Failure testing: {"Success": false}; three attempts, then RetriesExhausted.
    console.goto("/console/functions/event-destinations")
    failed_id = invoke_async(console, "event-destinations", '{ "Success": false }')
    expect(page.locator(".step-title", has_text="Failed: RetriesExhausted")).to_be_visible()
    expect(page.locator(".step-title", has_text="Attempt 3 failed")).to_be_visible()
    record = page.locator("#execution-record")
    expect(record).to_contain_text('"condition": "RetriesExhausted"')
    expect(record).to_contain_text('"approximateInvokeCount": 3')
    expect(record).to_contain_text("Failure from event, Success = false, I am failing!")
    where = page.get_by_role("region", name="Where the record went")
    expect(where).to_contain_text("destination-failure")
    expect(where.locator(".badge")).to_have_text("succeeded")
    console.screenshot("event-failure")

    # The failure record is the payload of the destination function's own event.
    where.get_by_role("link", name=re.compile("its invocation")).click()
    expect(page.locator(".crumbs")).to_contain_text("destination-failure")
    payload = page.get_by_role("region", name="Request payload")
    expect(payload).to_contain_text('"condition": "RetriesExhausted"')
    expect(payload).to_contain_text(f'"requestId": "{failed_id}"')
    expect(page.locator(".step-title", has_text=re.compile("^Succeeded$"))).to_be_visible()

    # Redrive the failed event: it runs again as a new event, and fails the same way.
    console.goto(f"/console/events/{failed_id}")
    page.get_by_role("button", name="Redrive this event").click()
    expect(page.locator(".notice")).to_contain_text(f"re-running {failed_id}")
    expect(page.locator(".step-title", has_text="Failed: RetriesExhausted")).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text(f"redrive of {failed_id}")

    # The success record arrived in the queue subscribed to the topic (peek, not receive).
    console.goto("/console/queues/success-records")
    page.get_by_role("button", name="Peek at messages").click()
    expect(page.locator("article").first).to_contain_text(ok_id)
    console.screenshot("queue")

    # Both events in the function's Invocations, the failure one in its logs.
    console.goto("/console/functions/event-destinations/invocations")
    table = page.locator("#events-table")
    expect(table.get_by_role("link", name=ok_id)).to_be_visible()
    expect(table.get_by_role("link", name=failed_id)).to_be_visible()
    console.screenshot("invocations")
    page.get_by_label("State").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(table.get_by_role("link", name=failed_id)).to_be_visible()
    expect(table.get_by_role("link", name=ok_id)).to_have_count(0)

    console.goto("/console/functions/event-destinations/logs")
    expect(page.get_by_role("region", name=re.compile("Log lines"))).to_contain_text(
        "I am failing!"
    )
    console.screenshot("logs")
    console.goto("/console/functions/event-destinations/monitor")
    expect(page.get_by_role("heading", name=re.compile("^Invocations"))).to_contain_text("7 total")
    console.screenshot("monitor")
    console.goto("/console/functions")
    row = page.get_by_role("row", name=re.compile("event-destinations"))
    expect(row).to_contain_text("nodejs20.x")
    console.screenshot("functions")
