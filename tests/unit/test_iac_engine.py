"""The engine against an in-memory cloud: order, updates, replacement, clean-up, rollback."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest

from sendoff.iac.engine import Engine
from sendoff.iac.plan import Action, Plan, prepare
from sendoff.iac.resources.base import Applied, Cloud, Prop, ResourceType, integer, string
from sendoff.iac.state import MemoryStackStore, ResourceState, Stack, StackEvent, StackStatus
from sendoff.iac.template import parse_template

JSON = dict[str, Any]


class FakeCloud:
    account_id = "123456789012"
    region = "us-east-1"
    partition = "aws"
    stack_name = "shop"

    def __init__(self) -> None:
        self.things: dict[str, JSON] = {}  # physical id -> properties
        self.fail: dict[tuple[str, str], str] = {}  # (operation, logical id) -> message
        self.calls: list[tuple[str, str]] = []
        self.count = 0

    def client(self, service: str) -> Any:
        raise AssertionError("no AWS here")

    def physical_name(self, logical_id: str, *, max_len: int, suffix: str = "") -> str:
        self.count += 1
        return f"{self.stack_name}-{logical_id}-{self.count}{suffix}"

    def code_zip(self, code: JSON, *, runtime: str | None) -> bytes:
        return b""

    def check(self, operation: str, logical_id: str) -> None:
        self.calls.append((operation, logical_id))
        if (operation, logical_id) in self.fail:
            message = self.fail[(operation, logical_id)]
            if message.startswith("once:"):
                del self.fail[(operation, logical_id)]
            raise RuntimeError(message)


class Thing(ResourceType):
    type_name = "Test::Thing"
    name_property = "Name"
    attributes = frozenset({"Arn"})
    schema: ClassVar[dict[str, Prop]] = {
        "Name": string(create_only=True),
        "Size": integer(0, 10),
        "Link": string(),
        "Shape": string(create_only=True),
    }

    def create(self, cloud: Cloud, logical_id: str, props: JSON) -> Applied:
        assert isinstance(cloud, FakeCloud)
        cloud.check("create", logical_id)
        name = props.get("Name") or cloud.physical_name(logical_id, max_len=64)
        if name in cloud.things:
            raise RuntimeError(f"{name} already exists")
        cloud.things[name] = dict(props)
        return Applied(physical_id=name, ref=name, attributes={"Arn": f"arn:thing:{name}"})

    def update(self, cloud: Cloud, current: ResourceState, props: JSON) -> Applied:
        assert isinstance(cloud, FakeCloud)
        cloud.check("update", current.logical_id)
        cloud.things[current.physical_id] = dict(props)
        return Applied(
            physical_id=current.physical_id, ref=current.ref, attributes=current.attributes
        )

    def delete(self, cloud: Cloud, current: ResourceState) -> None:
        assert isinstance(cloud, FakeCloud)
        cloud.check("delete", current.logical_id)
        cloud.things.pop(current.physical_id, None)


TYPES = {"Test::Thing": Thing()}

TEMPLATE = """
Parameters:
  Size: {Type: Number, Default: 1}
  BName: {Type: String, Default: b-one}
  WithC: {Type: String, Default: "yes"}
  BreakD: {Type: String, Default: "no"}
Conditions:
  HasC: !Equals [!Ref WithC, "yes"]
  HasD: !Equals [!Ref BreakD, "yes"]
Resources:
  A:
    Type: Test::Thing
    Properties: {Size: !Ref Size}
  B:
    Type: Test::Thing
    Properties: {Name: !Ref BName, Link: !GetAtt A.Arn}
  C:
    Type: Test::Thing
    Condition: HasC
    Properties: {Link: !Ref B}
  Kept:
    Type: Test::Thing
    Condition: HasC
    DeletionPolicy: Retain
  D:
    Type: Test::Thing
    Condition: HasD
    DependsOn: [A, B]
Outputs:
  BLink: {Value: !GetAtt B.Arn}
  Size: {Value: !Ref Size, Export: {Name: !Sub "${AWS::StackName}-size"}}
"""


class Recorder:
    def __init__(self) -> None:
        self.events: list[StackEvent] = []

    def event(self, event: StackEvent) -> None:
        self.events.append(event)

    def statuses(self) -> list[tuple[str, str]]:
        return [(e.logical_id, e.status) for e in self.events]


@pytest.fixture
def world() -> tuple[FakeCloud, MemoryStackStore, Recorder]:
    return FakeCloud(), MemoryStackStore(), Recorder()


def deploy(world: Any, **overrides: str) -> tuple[Stack, Plan]:
    cloud, store, recorder = world
    recorder.events.clear()
    template = parse_template(TEMPLATE)
    plan = prepare(
        template,
        template.body,
        stack_name="shop",
        region="us-east-1",
        account_id="123456789012",
        overrides=overrides,
        previous=store.get("us-east-1", "shop"),
        types=TYPES,
    )
    engine = Engine(cloud=cloud, store=store, listener=recorder, types=TYPES, clock=lambda: 1.0)
    return engine.deploy(plan), plan


def test_create(world: Any) -> None:
    cloud, store, recorder = world
    stack, _ = deploy(world)
    assert stack.status is StackStatus.CREATE_COMPLETE
    assert list(stack.resources) == ["A", "B", "C", "Kept"]
    assert cloud.things == {
        "shop-A-1": {"Size": 1},
        "b-one": {"Name": "b-one", "Link": "arn:thing:shop-A-1"},
        "shop-C-2": {"Link": "b-one"},
        "shop-Kept-3": {},
    }
    assert {k: (o.value, o.export) for k, o in stack.outputs.items()} == {
        "BLink": ("arn:thing:b-one", None),
        "Size": ("1", "shop-size"),
    }
    assert recorder.statuses()[:3] == [
        ("shop", "CREATE_IN_PROGRESS"),
        ("A", "CREATE_IN_PROGRESS"),
        ("A", "CREATE_COMPLETE"),
    ]
    assert recorder.statuses()[-1] == ("shop", "CREATE_COMPLETE")
    saved = store.get("us-east-1", "shop")
    assert saved is not None and saved.status is StackStatus.CREATE_COMPLETE
    assert Stack.from_json(saved.to_json(), revision=saved.revision) == saved


def test_update_in_place_keeps_the_physical_resource(world: Any) -> None:
    cloud, _, _recorder = world
    deploy(world)
    stack, plan = deploy(world, Size="5")
    assert [(c.logical_id, c.replacement) for c in plan.changes if c.action is Action.MODIFY] == [
        ("A", "False")
    ]
    assert stack.status is StackStatus.UPDATE_COMPLETE
    assert cloud.things["shop-A-1"] == {"Size": 5}
    assert ("update", "A") in cloud.calls and ("update", "B") not in cloud.calls
    assert stack.outputs["Size"].value == "5"


def test_replacement_creates_first_and_deletes_the_old_one_in_the_clean_up(world: Any) -> None:
    cloud, _, recorder = world
    deploy(world)
    stack, plan = deploy(world, BName="b-two")
    modified = {c.logical_id: c.replacement for c in plan.changes if c.action is Action.MODIFY}
    assert modified == {"B": "True", "C": "False"}
    assert stack.resources["B"].physical_id == "b-two"
    assert "b-one" not in cloud.things
    assert cloud.things["shop-C-2"] == {"Link": "b-two"}
    statuses = recorder.statuses()
    assert statuses.index(("B", "CREATE_COMPLETE")) < statuses.index(("C", "UPDATE_COMPLETE"))
    assert statuses.index(("shop", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")) < statuses.index(
        ("B", "DELETE_COMPLETE")
    )
    assert stack.pending == ()


def test_removed_resources_are_deleted_except_retained_ones(world: Any) -> None:
    cloud, _, recorder = world
    deploy(world)
    stack, plan = deploy(world, WithC="no")
    assert {c.logical_id for c in plan.changes if c.action is Action.REMOVE} == {"C", "Kept"}
    assert list(stack.resources) == ["A", "B"]
    assert "shop-C-2" not in cloud.things and "shop-Kept-3" in cloud.things
    assert ("Kept", "DELETE_SKIPPED") in recorder.statuses()
    # deleted in reverse dependency order
    assert recorder.statuses().index(("Kept", "DELETE_SKIPPED")) < recorder.statuses().index(
        ("C", "DELETE_COMPLETE")
    )


def test_a_failed_first_deployment_removes_everything_it_created(world: Any) -> None:
    cloud, _store, recorder = world
    cloud.fail[("create", "C")] = "no capacity"
    stack, _ = deploy(world)
    assert stack.status is StackStatus.ROLLBACK_COMPLETE
    assert "Resources.C: no capacity" in stack.reason
    assert cloud.things == {}
    assert stack.resources == {}
    assert ("C", "CREATE_FAILED") in recorder.statuses()
    assert recorder.statuses()[-1] == ("shop", "ROLLBACK_COMPLETE")
    del cloud.fail[("create", "C")]
    stack, plan = deploy(world)  # a new try starts over
    assert {c.action for c in plan.changes} == {Action.ADD}
    assert stack.status is StackStatus.CREATE_COMPLETE


def test_a_failed_update_rolls_back_and_the_previous_version_stays(world: Any) -> None:
    cloud, _store, recorder = world
    before, _ = deploy(world)
    cloud.fail[("create", "D")] = "quota exceeded"
    stack, _ = deploy(world, Size="7", BName="b-two", WithC="no", BreakD="yes")
    assert stack.status is StackStatus.UPDATE_ROLLBACK_COMPLETE
    assert stack.resources == before.resources
    assert stack.outputs == before.outputs and stack.parameters == before.parameters
    assert stack.processed == before.processed
    assert cloud.things == {
        "shop-A-1": {"Size": 1},
        "b-one": {"Name": "b-one", "Link": "arn:thing:shop-A-1"},
        "shop-C-2": {"Link": "b-one"},
        "shop-Kept-3": {},
    }
    statuses = recorder.statuses()
    assert ("D", "CREATE_FAILED") in statuses
    assert statuses[statuses.index(("D", "CREATE_FAILED")) :] == [
        ("D", "CREATE_FAILED"),
        ("shop", "UPDATE_ROLLBACK_IN_PROGRESS"),
        ("B", "DELETE_IN_PROGRESS"),
        ("B", "DELETE_COMPLETE"),  # the replacement b-two
        ("A", "UPDATE_IN_PROGRESS"),
        ("A", "UPDATE_COMPLETE"),
        ("shop", "UPDATE_ROLLBACK_COMPLETE"),
    ]


def test_a_resource_that_fails_to_update_is_restored_too(world: Any) -> None:
    cloud, _, _ = world
    deploy(world)
    cloud.fail[("update", "A")] = "once: half done"
    stack, _ = deploy(world, Size="3")
    assert stack.status is StackStatus.UPDATE_ROLLBACK_COMPLETE
    assert cloud.calls[-2:] == [("update", "A"), ("update", "A")]


def test_a_rollback_that_fails_is_reported(world: Any) -> None:
    cloud, _, _ = world
    cloud.fail[("create", "C")] = "boom"
    cloud.fail[("delete", "B")] = "stuck"
    stack, _ = deploy(world)
    assert stack.status is StackStatus.ROLLBACK_FAILED
    assert list(stack.resources) == ["B"]


def test_replacing_a_custom_named_resource_needs_a_new_name(world: Any) -> None:
    cloud, store, recorder = world
    text = """
Parameters:
  Shape: {Type: String, Default: round}
Resources:
  Named: {Type: Test::Thing, Properties: {Name: fixed, Shape: !Ref Shape}}
"""
    parsed = parse_template(text)
    for shape in ("round", "square"):
        plan = prepare(
            parsed,
            parsed.body,
            stack_name="shop",
            region="us-east-1",
            account_id="1",
            overrides={"Shape": shape},
            previous=store.get("us-east-1", "shop"),
            types=TYPES,
        )
        stack = Engine(cloud=cloud, store=store, listener=recorder, types=TYPES).deploy(plan)
    assert stack.status is StackStatus.UPDATE_ROLLBACK_COMPLETE
    assert stack.reason == (
        "Resources.Named.Properties.Name: changing Shape needs a new resource, but its Name "
        "'fixed' is fixed: change (or remove) Name as well, and deploy again"
    )
    assert cloud.things == {"fixed": {"Name": "fixed", "Shape": "round"}}


def test_delete_removes_everything_but_retained_resources(world: Any) -> None:
    cloud, store, recorder = world
    _stack, _ = deploy(world)
    final = Engine(cloud=cloud, store=store, listener=recorder, types=TYPES).delete(
        store.get("us-east-1", "shop")  # type: ignore[arg-type]
    )
    assert final.status is StackStatus.DELETE_COMPLETE
    assert store.get("us-east-1", "shop") is None
    assert cloud.things == {"shop-Kept-3": {}}
    deletes = [e.logical_id for e in recorder.events if e.status == "DELETE_COMPLETE"]
    assert deletes == ["C", "B", "A", "shop"]


def test_a_failed_delete_keeps_what_remains(world: Any) -> None:
    cloud, store, _ = world
    deploy(world)
    cloud.fail[("delete", "A")] = "in use"
    final = Engine(cloud=cloud, store=store, types=TYPES).delete(
        store.get("us-east-1", "shop")  # type: ignore[arg-type]
    )
    assert final.status is StackStatus.DELETE_FAILED
    assert list(final.resources) == ["A"]
    assert store.get("us-east-1", "shop") is not None


def test_a_busy_stack_is_not_deployed_twice(world: Any) -> None:
    _, store, _ = world
    deploy(world)
    stack = store.get("us-east-1", "shop")
    store.put(stack.evolve(status=StackStatus.UPDATE_IN_PROGRESS))
    from sendoff.iac.errors import StackError

    with pytest.raises(StackError, match="UPDATE_IN_PROGRESS: another deployment is running"):
        deploy(world)


def test_a_value_known_only_during_deployment_is_still_checked(world: Any) -> None:
    cloud, store, recorder = world
    text = """
Resources:
  A: {Type: Test::Thing}
  B: {Type: Test::Thing, Properties: {Size: !GetAtt A.Arn}}
"""
    parsed = parse_template(text)
    plan = prepare(
        parsed, parsed.body, stack_name="shop", region="us-east-1", account_id="1", types=TYPES
    )
    stack = Engine(cloud=cloud, store=store, listener=recorder, types=TYPES).deploy(plan)
    assert stack.status is StackStatus.ROLLBACK_COMPLETE
    assert stack.reason == (
        "Resources.B.Properties.Size: must be an integer, not 'arn:thing:shop-A-1'"
    )
    assert cloud.things == {}
