"""The console's other promises, in a real browser: bad input is explained next to the
field and nothing is saved half-way; pages update live; keyboard use and labels; code
edit and deploy; queues, topics and event buses. Functions are set up with boto3."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.browser.conftest import ConsolePage, expect
from tests.conftest import client_for
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess

ACCOUNT_REGION = "us-east-1:000000000000"


@pytest.fixture(scope="module")
def lambda_api(console_server: ServerProcess) -> Iterator[Any]:
    client = client_for(console_server.url, "lambda")
    yield client
    client.close()


def field_of(console: ConsolePage, label: str) -> Any:
    """The form field (label, hint, error, control) around the control labelled ``label``."""
    control = console.page.get_by_label(label, exact=True)
    return console.page.locator(".field").filter(has=control)


def no_event_invoke_config(lambda_api: Any, name: str) -> bool:
    try:
        lambda_api.get_function_event_invoke_config(FunctionName=name)
    except ClientError as exc:
        return exc.response["Error"]["Code"] == "ResourceNotFoundException"
    return False


def test_bad_input_is_explained_next_to_the_field(console: ConsolePage, lambda_api: Any) -> None:
    name = unique("bad")
    create_python(lambda_api, name)
    page = console.page

    # Invalid JSON in the test editor: said next to the field, the text kept, focus on
    # the summary of problems; then the page keeps working.
    console.goto(f"/console/functions/{name}/test")
    editor = page.get_by_label("Event JSON")
    editor.fill('{"Success": tru}')
    page.get_by_role("button", name="Test", exact=True).click()
    expect(field_of(console, "Event JSON").locator(".field-error")).to_contain_text(
        "There is an error in your JSON event"
    )
    expect(editor).to_have_attribute("aria-invalid", "true")
    expect(editor).to_have_value('{"Success": tru}')
    expect(page.locator(".error-summary")).to_be_focused()
    console.screenshot("test-invalid-json")
    editor.fill('{"hello": "console"}')
    page.get_by_role("button", name="Test", exact=True).click()
    expect(page.locator(".result-head .badge")).to_have_text("succeeded")
    expect(page.get_by_label("Response", exact=True)).to_contain_text('"hello": "console"')
    expect(page.get_by_label("Log output")).to_contain_text("REPORT RequestId")
    console.screenshot("test-result")

    # An invalid destination ARN: Lambda's own validation message, next to the field.
    console.goto(f"/console/functions/{name}/destinations/new")
    page.get_by_label("Destination", exact=True).fill("not-an-arn")
    page.get_by_role("button", name="Save").click()
    expect(field_of(console, "Destination").locator(".field-error")).to_contain_text(
        "Value 'not-an-arn' at 'destinationConfig.onSuccess.destination' failed to satisfy"
        " constraint"
    )
    console.screenshot("destination-error")

    # The function as its own destination.
    page.get_by_label("Destination type").select_option(label="Lambda function")
    page.get_by_label("Destination", exact=True).fill(
        f"arn:aws:lambda:{ACCOUNT_REGION}:function:{name}"
    )
    page.get_by_role("button", name="Save").click()
    expect(field_of(console, "Destination").locator(".field-error")).to_have_text(
        "Error: You can't specify the function as a destination for itself."
    )
    # A queue ARN under the Lambda type: said which type it is.
    page.get_by_label("Destination", exact=True).fill(f"arn:aws:sqs:{ACCOUNT_REGION}:q")
    page.get_by_role("button", name="Save").click()
    expect(field_of(console, "Destination").locator(".field-error")).to_contain_text(
        "This ARN names an SQS queue, but the destination type is Lambda function."
    )
    assert no_event_invoke_config(lambda_api, name), "a refused destination was saved"

    # Out-of-range retry attempts and event age: both fields say what is wrong.
    console.goto(f"/console/functions/{name}/async-config")
    page.get_by_label("Maximum age of event (seconds)").fill("30")
    page.get_by_label("Retry attempts").fill("5")
    page.get_by_label("Dead-letter queue service").select_option(label="Amazon SQS queue")
    page.get_by_label("Queue or topic ARN").fill(f"arn:aws:sns:{ACCOUNT_REGION}:t")
    page.get_by_role("button", name="Save").click()
    expect(
        field_of(console, "Maximum age of event (seconds)").locator(".field-error")
    ).to_contain_text("Member must have value greater than or equal to 60")
    expect(field_of(console, "Retry attempts").locator(".field-error")).to_contain_text(
        "Member must have value less than or equal to 2"
    )
    expect(field_of(console, "Queue or topic ARN").locator(".field-error")).to_contain_text(
        "This ARN is not an Amazon SQS queue"
    )
    console.screenshot("async-config-errors")
    assert no_event_invoke_config(lambda_api, name), "half of a refused form was saved"
    assert "DeadLetterConfig" not in lambda_api.get_function_configuration(FunctionName=name)

    # Corrected, it saves everything.
    page.get_by_label("Maximum age of event (seconds)").fill("120")
    page.get_by_label("Retry attempts").fill("0")
    page.get_by_label("Dead-letter queue service").select_option(label="None")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".notice")).to_contain_text("settings were saved")
    config = lambda_api.get_function_event_invoke_config(FunctionName=name)
    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (0, 120)


def test_pages_update_live(console: ConsolePage, lambda_api: Any) -> None:
    name = unique("live")
    create_python(lambda_api, name)
    page = console.page
    console.goto(f"/console/functions/{name}/invocations")
    expect(page.get_by_text("No asynchronous events yet.")).to_be_visible()
    page.evaluate("window.notReloaded = true")

    out = lambda_api.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"n": 1}')
    request_id = out["ResponseMetadata"]["RequestId"]
    row = page.get_by_role("row", name=re.compile(request_id))
    expect(row).to_contain_text("succeeded")

    failing = lambda_api.invoke(
        FunctionName=name, InvocationType="Event", Payload=b'{"fail": true, "message": "live-boom"}'
    )["ResponseMetadata"]["RequestId"]
    failed_row = page.get_by_role("row", name=re.compile(failing))
    expect(failed_row).to_contain_text("live-boom")
    expect(failed_row).to_contain_text("failed")
    assert page.evaluate("window.notReloaded") is True

    # Redrive every failed event that matches the filter.
    page.get_by_role("button", name="Redrive 1 failed event").click()
    expect(page.locator(".notice")).to_contain_text("Redrove 1 failed event(s)")
    expect(page.locator("#events-table tbody tr")).to_have_count(3)

    # An event's timeline follows it while it retries.
    lambda_api.put_function_event_invoke_config(FunctionName=name, MaximumRetryAttempts=1)
    slow = lambda_api.invoke(
        FunctionName=name, InvocationType="Event", Payload=b'{"fail": true, "sleep": 0.3}'
    )["ResponseMetadata"]["RequestId"]
    console.goto(f"/console/events/{slow}")
    page.evaluate("window.notReloaded = true")
    expect(page.locator(".step-title", has_text="Failed: RetriesExhausted")).to_be_visible()
    expect(page.locator(".step-title", has_text="Attempt 2 failed")).to_be_visible()
    assert page.evaluate("window.notReloaded") is True

    # Logs: new lines are appended as they are written.
    console.goto(f"/console/functions/{name}/logs")
    lambda_api.invoke(FunctionName=name, Payload=b'{"print": "tail-marker-42"}')
    expect(page.get_by_role("region", name=re.compile("Log lines"))).to_contain_text(
        "tail-marker-42"
    )
    page.get_by_label("Show lines containing").fill("tail-marker")
    expect(page.locator(".log li:not([hidden])")).to_have_count(1)

    # Monitor: the charts follow the metrics.
    console.goto(f"/console/functions/{name}/monitor")
    heading = page.get_by_role("heading", name=re.compile("^Invocations"))
    before = int(re.search(r"(\d+) total", heading.inner_text()).group(1))  # type: ignore[union-attr]
    lambda_api.invoke(FunctionName=name, Payload=b"{}")
    expect(heading).to_contain_text(f"{before + 1} total")


def test_keyboard_and_labels(console: ConsolePage, lambda_api: Any) -> None:
    name = unique("kbd")
    create_python(lambda_api, name)
    target = unique("kbd-target")
    create_python(lambda_api, target)
    page = console.page

    console.goto("/console/functions")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to main content")).to_be_focused()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    # Every control of the main pages has an accessible name.
    unlabelled = """() => [...document.querySelectorAll('input, select, textarea, button')]
        .filter(el => el.type !== 'hidden' && !el.hidden && el.offsetParent !== null)
        .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                      && !el.getAttribute('aria-labelledby') && !el.textContent.trim())
        .map(el => el.outerHTML.slice(0, 120))"""
    for path in ("/console/functions", "/console/functions/new", f"/console/functions/{name}",
                 f"/console/functions/{name}/destinations/new", f"/console/functions/{name}/test",
                 f"/console/functions/{name}/invocations", f"/console/functions/{name}/logs",
                 f"/console/functions/{name}/monitor", f"/console/functions/{name}/code",
                 f"/console/functions/{name}/async-config", "/console/queues", "/console/topics",
                 "/console/buses", "/console/buses/default"):  # fmt: skip
        console.goto(path)
        assert page.evaluate(unlabelled) == [], path
        assert page.locator("h1").count() == 1, path

    # Add a destination with the keyboard alone.
    console.goto(f"/console/functions/{name}")
    page.get_by_role("link", name="Add destination").first.focus()
    page.keyboard.press("Enter")
    expect(page.get_by_label("Source")).to_be_visible()
    page.get_by_label("Source").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_label("On success", exact=True)).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(page.get_by_label("On failure", exact=True)).to_be_checked()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Destination type")).to_be_focused()
    page.keyboard.type("Lambda")
    expect(page.get_by_label("Destination type")).to_have_value("lambda")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Destination", exact=True)).to_be_focused()
    page.keyboard.type(f"arn:aws:lambda:{ACCOUNT_REGION}:function:{target}")
    page.keyboard.press("Enter")
    expect(page.locator(".notice")).to_contain_text("On failure → Lambda function")
    expect(page.locator("#destination-on-failure")).to_contain_text(target)


def test_code_edit_and_deploy(console: ConsolePage, lambda_api: Any) -> None:
    name = unique("code")
    create_python(lambda_api, name, "def handler(event, context):\n    return 'before'\n")
    page = console.page
    console.goto(f"/console/functions/{name}/code")
    editor = page.get_by_label("app.py")
    expect(editor).to_have_value(re.compile("return 'before'"))
    editor.fill("def handler(event, context):\n    return {'after': event}\n")
    console.screenshot("code")
    page.get_by_role("button", name="Deploy").first.click()
    expect(page.locator(".notice")).to_contain_text("Deployed")
    out = lambda_api.invoke(FunctionName=name, Payload=b'{"x": 1}')
    assert out["Payload"].read() == b'{"after": {"x": 1}}'

    # Search filters the functions list as you type.
    console.goto("/console/functions")
    page.get_by_label("Search functions").fill(name)
    expect(page.locator("#functions-table tbody tr:not([hidden])")).to_have_count(1)


def test_queues_topics_and_buses(console: ConsolePage, lambda_api: Any) -> None:
    page = console.page
    queue = unique("q")
    console.goto("/console/queues")
    page.get_by_label("Queue name").fill("bad name!")
    page.get_by_role("button", name="Create queue").click()
    expect(field_of(console, "Queue name").locator(".field-error")).to_be_visible()
    page.get_by_label("Queue name").fill(queue)
    page.get_by_role("button", name="Create queue").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(queue)
    page.get_by_label("Message body").fill('{"order": 42}')
    page.get_by_role("button", name="Send message").click()
    expect(page.locator(".notice")).to_contain_text("was sent")
    page.get_by_role("button", name="Peek at messages").click()
    expect(page.locator("article")).to_contain_text('"order": 42')
    page.get_by_role("button", name="Purge queue").click()
    expect(page.locator(".notice")).to_contain_text("Purged 1 message(s)")

    topic = unique("t")
    console.goto("/console/topics")
    page.get_by_label("Topic name").fill(topic)
    page.get_by_role("button", name="Create topic").click()
    fn = unique("subscriber")
    create_python(lambda_api, fn)
    page.get_by_label("Protocol").select_option("lambda")
    page.get_by_label("Endpoint").fill(f"arn:aws:lambda:{ACCOUNT_REGION}:function:{fn}")
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("table")).to_contain_text(fn)
    console.goto(f"/console/functions/{fn}")
    expect(page.locator(".designer .triggers")).to_contain_text(topic)

    # Event buses: a rule targeting a function, and the pattern tester.
    console.goto("/console/buses/default")
    rule = unique("rule")
    page.get_by_label("Rule name").fill(rule)
    page.get_by_label("Target ARN (optional)").fill(
        f"arn:aws:lambda:{ACCOUNT_REGION}:function:{fn}"
    )
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator(f"#rule-{rule}")).to_contain_text(fn)
    tester = page.get_by_role("region", name="Test an event pattern")
    tester.get_by_role("button", name="Test pattern").click()
    expect(page.locator("#pattern-result")).to_have_text("The event matches the pattern.")
    event = page.get_by_label("Sample event")
    event.fill(event.input_value().replace('"lambda"', '"other"'))
    page.get_by_role("button", name="Test pattern").click()
    expect(page.locator("#pattern-result")).to_have_text("The event does not match the pattern.")
    tester = page.get_by_role("region", name="Test an event pattern")
    tester.get_by_label("Event pattern", exact=True).fill('{"source": "not-a-list"}')
    tester.get_by_role("button", name="Test pattern").click()
    pattern_field = tester.locator(".field").filter(has=page.locator("#f-pattern"))
    expect(pattern_field.locator(".field-error")).to_be_visible()
    console.screenshot("bus")
    console.goto(f"/console/functions/{fn}")
    expect(page.locator(".designer .triggers")).to_contain_text(rule)
