"""What ``sendoff deploy`` shows while it works: the change set, live progress, outputs.

On a terminal, a rich live table has one row per resource (its latest status, spinning
while in progress); elsewhere (CI, pipes) each event is one plain line. Progress goes to
stderr so stdout carries only the result (a table, or JSON with ``--output json``).
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from sendoff.iac.plan import Action, Plan
from sendoff.iac.state import Stack, StackEvent

STYLES = {"COMPLETE": "green", "FAILED": "bold red", "IN_PROGRESS": "yellow",
          "SKIPPED": "dim", "ROLLBACK": "red"}  # fmt: skip
ACTION_STYLES = {Action.ADD: "green", Action.MODIFY: "yellow", Action.REMOVE: "red"}


def status_style(status: str) -> str:
    if "ROLLBACK" in status and not status.endswith("IN_PROGRESS"):
        return STYLES["ROLLBACK"] if "FAILED" in status else "yellow"
    for suffix, style in STYLES.items():
        if status.endswith(suffix):
            return style
    return ""


class Progress:
    """A ``Listener`` for the engine that draws the deployment as it happens."""

    def __init__(self, console: Console, *, title: str) -> None:
        self.console = console
        self.title = title
        self.rows: dict[str, StackEvent] = {}
        self.stack_status = ""
        self.live: Live | None = None

    def __enter__(self) -> Progress:
        if self.console.is_terminal:
            self.live = Live(self._render(), console=self.console, refresh_per_second=8,
                             transient=False)  # fmt: skip
            self.live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.live is not None:
            self.live.update(self._render(final=True))
            self.live.__exit__(kind, value, tb)
            self.live = None

    def event(self, event: StackEvent) -> None:
        if event.type == "AWS::CloudFormation::Stack":
            self.stack_status = event.status
        else:
            self.rows[event.logical_id] = event
        if self.live is not None:
            self.live.update(self._render())
            return
        stamp = time.strftime("%H:%M:%S", time.localtime(event.timestamp))
        line = Text(f"{stamp}  ")
        line.append(f"{event.status:<36}", style=status_style(event.status))
        line.append(f" {event.logical_id:<28} {event.type:<32} {event.physical_id}")
        if event.reason:
            line.append(f"  {event.reason}", style="dim")
        self.console.print(line, soft_wrap=True, highlight=False)

    def _render(self, *, final: bool = False) -> Group:
        table = Table(title=f"{self.title}  {self.stack_status}".strip(), expand=False,
                      title_justify="left", show_edge=False, pad_edge=False)  # fmt: skip
        for column in ("", "Resource", "Type", "Status", "Physical ID", "Reason"):
            table.add_column(column, overflow="fold")
        for event in self.rows.values():
            busy = event.status.endswith("IN_PROGRESS") and not final
            mark = Spinner("dots") if busy else Text("✓" if "COMPLETE" in event.status else "·")
            table.add_row(mark, event.logical_id, event.type,
                          Text(event.status, style=status_style(event.status)),
                          event.physical_id, Text(event.reason, style="dim"))  # fmt: skip
        return Group(table)


def changes_table(plan: Plan) -> Table:
    table = Table(title=f"Changes to stack {plan.stack_name}", title_justify="left",
                  show_edge=False, pad_edge=False)  # fmt: skip
    for column in ("Action", "Resource", "Type", "Replacement", "Properties"):
        table.add_column(column, overflow="fold")
    for change in plan.changes:
        if change.action is Action.NONE:
            continue
        table.add_row(Text(change.action.value, style=ACTION_STYLES.get(change.action, "")),
                      change.logical_id, change.type, change.replacement,
                      ", ".join(change.properties))  # fmt: skip
    return table


def outputs_table(stack: Stack) -> Table:
    table = Table(title=f"Outputs of {stack.name}", title_justify="left", show_edge=False,
                  pad_edge=False)  # fmt: skip
    for column in ("Key", "Value", "Description", "Export"):
        table.add_column(column, overflow="fold")
    for key, output in stack.outputs.items():
        table.add_row(key, output.value, output.description, output.export or "")
    return table
