"""The console's buckets in a real browser: create a bucket, upload a file into a
"folder", navigate by prefix, download it, delete it; a bucket notifying a function shows
as a trigger in the function's Designer, and an S3 failure destination as its destination."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import ConsolePage, expect
from tests.conftest import client_for
from tests.support.functions import create_python, unique
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def apis(console_server: ServerProcess) -> Iterator[tuple[Any, Any]]:
    lam, s3 = client_for(console_server.url, "lambda"), client_for(console_server.url, "s3")
    yield lam, s3
    lam.close()
    s3.close()


def test_bucket_browser(console: ConsolePage, apis: tuple[Any, Any], tmp_path: Path) -> None:
    _, s3 = apis
    page = console.page
    name = unique("bkt").lower()
    console.goto("/console/buckets")
    page.get_by_label("Bucket name").fill("Bad_Name")
    page.get_by_role("button", name="Create bucket").click()
    expect(page.locator(".field-error")).to_be_visible()
    page.get_by_label("Bucket name").fill(name)
    page.get_by_role("button", name="Create bucket").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)

    s3.put_object(Bucket=name, Key="photos/2026/a.jpg", Body=b"jpeg")
    page.reload()
    page.get_by_role("link", name="photos/").click()
    page.get_by_role("link", name="2026/").click()
    expect(page.get_by_role("table")).to_contain_text("a.jpg")
    file = tmp_path / "notes.txt"
    file.write_text("hello from the console")
    page.get_by_label("File").set_input_files(str(file))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("table")).to_contain_text("notes.txt")
    assert s3.get_object(Bucket=name, Key="photos/2026/notes.txt")["Body"].read() == (
        b"hello from the console"
    )
    with page.expect_download() as info:
        page.get_by_role("link", name="notes.txt").click()
    download = info.value
    assert download.suggested_filename == "notes.txt"
    assert Path(download.path()).read_bytes() == b"hello from the console"
    page.get_by_role("button", name="Delete photos/2026/notes.txt").click()
    expect(page.locator(".notice")).to_contain_text("Deleted photos/2026/notes.txt")
    expect(page.get_by_role("table")).not_to_contain_text("notes.txt")
    page.get_by_role("link", name="↑ Up to photos/").click()
    expect(page.get_by_role("table")).to_contain_text("2026/")


def test_designer_shows_s3_trigger_and_failure_destination(
    console: ConsolePage, apis: tuple[Any, Any]
) -> None:
    lam, s3 = apis
    page = console.page
    uploads, failures = unique("up").lower(), unique("fail").lower()
    s3.create_bucket(Bucket=uploads)
    s3.create_bucket(Bucket=failures)
    fn = unique()
    arn = create_python(lam, fn)["FunctionArn"]
    s3.put_bucket_notification_configuration(
        Bucket=uploads,
        NotificationConfiguration={
            "LambdaFunctionConfigurations": [
                {"LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
    lam.put_function_event_invoke_config(
        FunctionName=fn,
        DestinationConfig={"OnFailure": {"Destination": f"arn:aws:s3:::{failures}"}},
    )
    # S3 as On success: refused next to the type, before anything is sent to Lambda.
    console.goto(f"/console/functions/{fn}/destinations/new")
    page.get_by_label("On success", exact=True).check()
    page.get_by_label("Destination type").select_option(label="S3 bucket")
    page.get_by_label("Destination", exact=True).fill(f"arn:aws:s3:::{failures}")
    page.get_by_role("button", name="Save").click()
    type_field = page.locator(".field").filter(has=page.get_by_label("Destination type"))
    expect(type_field.locator(".field-error")).to_contain_text(
        "An S3 bucket can only receive records of failed invocations"
    )
    console.goto(f"/console/functions/{fn}")
    triggers = page.locator(".designer .triggers")
    expect(triggers).to_contain_text(uploads)
    expect(triggers).to_contain_text("S3 bucket")
    expect(page.locator(".designer")).to_contain_text(failures)
    console.goto(f"/console/buckets/{uploads}")
    expect(page.get_by_role("region", name="Event notifications")).to_contain_text(fn)
    console.screenshot("bucket")
