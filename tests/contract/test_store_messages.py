"""The message-queue contract behaves the same on every backend."""

from __future__ import annotations

from pathlib import Path

from sendoff.store import Store
from sendoff.store.messages import (
    ChangeOutcome,
    DeadLetterTarget,
    MessageCounts,
    QueuedMessage,
    VisibilityChange,
)
from sendoff.store.sqlite import SqliteStore

T0 = 1_000_000.0
WINDOW = 300.0
FOREVER = 0.0  # sent_after cut-off that expires nothing


def msg(
    mid: str,
    *,
    at: float = T0,
    delay: float = 0.0,
    group: str | None = None,
    dedup: str | None = None,
    meta: dict[str, object] | None = None,
) -> QueuedMessage:
    return QueuedMessage(
        id=mid,
        body=f"body-{mid}",
        meta=meta or {},
        sent_at=at,
        visible_at=at + delay,
        group_id=group,
        dedup_id=dedup,
    )


async def put(store: Store, queue: str, *messages: QueuedMessage, now: float = T0) -> list[int]:
    results = await store.put_messages(queue, messages, now=now, dedup_window_s=WINDOW)
    return [r.seq for r in results]


async def receive(
    store: Store,
    queue: str,
    *,
    now: float = T0,
    limit: int = 10,
    visibility_s: float = 30.0,
    ordered: bool = False,
    dead_letter: DeadLetterTarget | None = None,
) -> list[QueuedMessage]:
    got = await store.receive_messages(
        queue,
        now=now,
        limit=limit,
        visibility_s=visibility_s,
        sent_after=FOREVER,
        ordered=ordered,
        dead_letter=dead_letter,
    )
    return got.messages


async def test_put_then_receive_in_send_order(store: Store) -> None:
    seqs = await put(store, "q", msg("a"), msg("b"), msg("c"))
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    got = await receive(store, "q")
    assert [m.id for m in got] == ["a", "b", "c"]
    first = got[0]
    assert first.body == "body-a" and first.receive_count == 1
    assert first.first_received_at == T0 and first.visible_at == T0 + 30
    assert first.receipt is not None and first.seq == seqs[0]


async def test_meta_round_trips_and_is_copied(store: Store) -> None:
    meta = {"attributes": {"k": {"DataType": "String", "StringValue": "v"}}, "list": [1]}
    await put(store, "q", msg("a", meta=meta))
    meta["list"].append(2)  # type: ignore[attr-defined]
    (got,) = await receive(store, "q", visibility_s=0)
    assert got.meta == {
        "attributes": {"k": {"DataType": "String", "StringValue": "v"}},
        "list": [1],
    }
    got.meta["list"].append(3)
    (again,) = await receive(store, "q", now=T0 + 1)
    assert again.meta["list"] == [1]


async def test_limit_and_queue_isolation(store: Store) -> None:
    await put(store, "q1", *(msg(f"m{i}") for i in range(5)))
    await put(store, "q2", msg("other"))
    assert [m.id for m in await receive(store, "q1", limit=2)] == ["m0", "m1"]
    assert [m.id for m in await receive(store, "q1", limit=10)] == ["m2", "m3", "m4"]
    assert [m.id for m in await receive(store, "q2")] == ["other"]
    assert await receive(store, "missing") == []


async def test_visibility_timeout_hides_then_returns(store: Store) -> None:
    await put(store, "q", msg("a"))
    (first,) = await receive(store, "q", visibility_s=10)
    assert await receive(store, "q", now=T0 + 9.9) == []
    (second,) = await receive(store, "q", now=T0 + 10)
    assert second.id == "a" and second.receive_count == 2
    assert second.first_received_at == T0 and second.receipt != first.receipt


async def test_zero_visibility_makes_it_visible_at_once(store: Store) -> None:
    await put(store, "q", msg("a"))
    assert len(await receive(store, "q", visibility_s=0)) == 1
    (again,) = await receive(store, "q", visibility_s=0)
    assert again.receive_count == 2


async def test_delete_needs_the_current_receipt(store: Store) -> None:
    await put(store, "q", msg("a"), msg("b", delay=1000))
    first = await receive(store, "q", limit=1, visibility_s=1)
    stale = (first[0].seq, first[0].receipt or "")
    (current,) = await receive(store, "q", now=T0 + 1, limit=1)  # "a" again, new receipt
    assert current.id == "a"
    assert await store.delete_messages("q", [stale]) == [False]
    assert await store.delete_messages("other-queue", [(current.seq, current.receipt or "")]) == [
        False
    ]
    handle = (current.seq, current.receipt or "")
    assert await store.delete_messages("q", [handle, handle]) == [True, False]
    assert await receive(store, "q", now=T0 + 100) == []


async def test_change_visibility_outcomes(store: Store) -> None:
    await put(store, "q", msg("a"), msg("b"))
    a, b = await receive(store, "q", visibility_s=30)
    out = await store.change_visibility(
        "q",
        [
            VisibilityChange(seq=a.seq, receipt=a.receipt or "", visible_at=T0 + 100),
            VisibilityChange(seq=b.seq, receipt=b.receipt or "", visible_at=T0),
            VisibilityChange(seq=b.seq, receipt="stale", visible_at=T0),
        ],
        now=T0 + 1,
    )
    assert out == [ChangeOutcome.CHANGED, ChangeOutcome.CHANGED, ChangeOutcome.NOT_FOUND]
    assert [m.id for m in await receive(store, "q", now=T0 + 1, visibility_s=0)] == ["b"]
    # standard order is oldest-visible first: b (visible since T0 + 1), then a
    assert [m.id for m in await receive(store, "q", now=T0 + 100, visibility_s=5)] == ["b", "a"]
    (late,) = [m for m in await receive(store, "q", now=T0 + 200) if m.id == "a"]
    assert await store.change_visibility(
        "q",
        [VisibilityChange(seq=late.seq, receipt=late.receipt or "", visible_at=T0)],
        now=T0 + 300,
    ) == [ChangeOutcome.NOT_IN_FLIGHT]


async def test_delays_counts_and_next_visible(store: Store) -> None:
    await put(store, "q", msg("now"), msg("later", delay=5), msg("flight"))
    assert await store.count_messages("q", now=T0, sent_after=FOREVER) == MessageCounts(
        visible=2, in_flight=0, delayed=1
    )
    got = await receive(store, "q", limit=1, visibility_s=30)
    assert [m.id for m in got] == ["now"]
    assert await store.count_messages("q", now=T0, sent_after=FOREVER) == MessageCounts(
        visible=1, in_flight=1, delayed=1
    )
    assert await store.next_visible_at("q", now=T0) == T0 + 5
    assert await store.next_visible_at("q", now=T0 + 5) == T0 + 30
    assert await store.next_visible_at("empty", now=T0) is None
    assert [m.id for m in await receive(store, "q", now=T0 + 5)] == ["flight", "later"]


async def test_delayed_message_is_not_received_early(store: Store) -> None:
    await put(store, "q", msg("later", delay=5))
    assert await receive(store, "q", now=T0 + 4.9) == []
    assert [m.id for m in await receive(store, "q", now=T0 + 5)] == ["later"]


async def test_deduplication_window(store: Store) -> None:
    results = await store.put_messages(
        "q",
        [msg("a", dedup="d1"), msg("b", dedup="d1"), msg("c", dedup="d2")],
        now=T0,
        dedup_window_s=WINDOW,
    )
    assert [(r.id, r.duplicate) for r in results] == [("a", False), ("a", True), ("c", False)]
    assert results[1].seq == results[0].seq
    (a, _) = await receive(store, "q")
    await store.delete_messages("q", [(a.seq, a.receipt or "")])
    again = await store.put_messages(
        "q", [msg("x", dedup="d1")], now=T0 + 299, dedup_window_s=WINDOW
    )
    assert again[0].duplicate and again[0].id == "a"
    other = await store.put_messages("q2", [msg("y", dedup="d1")], now=T0, dedup_window_s=WINDOW)
    assert not other[0].duplicate
    after = await store.put_messages(
        "q", [msg("z", dedup="d1")], now=T0 + 300, dedup_window_s=WINDOW
    )
    assert not after[0].duplicate and after[0].id == "z"


async def test_ordered_receive_blocks_a_group_in_flight(store: Store) -> None:
    await put(store, "f", msg("a1", group="a"), msg("b1", group="b"), msg("a2", group="a"))
    first = await receive(store, "f", limit=1, ordered=True)
    assert [m.id for m in first] == ["a1"]
    # group a is blocked while a1 is in flight; b proceeds
    assert [m.id for m in await receive(store, "f", ordered=True)] == ["b1"]
    assert await receive(store, "f", ordered=True) == []
    await store.delete_messages("f", [(first[0].seq, first[0].receipt or "")])
    assert [m.id for m in await receive(store, "f", ordered=True)] == ["a2"]


async def test_ordered_receive_returns_a_group_in_order(store: Store) -> None:
    await put(store, "f", *(msg(f"a{i}", group="a") for i in range(4)), msg("b0", group="b"))
    got = await receive(store, "f", limit=3, ordered=True)
    assert [m.id for m in got] == ["a0", "a1", "a2"]
    # a3 waits for the in-flight a0..a2; visibility expiry hands a0.. back in order
    assert [m.id for m in await receive(store, "f", ordered=True)] == ["b0"]
    assert [m.id for m in await receive(store, "f", now=T0 + 30, ordered=True)] == [
        "a0",
        "a1",
        "a2",
        "a3",
        "b0",
    ]


async def test_ordered_receive_hands_back_an_earlier_message_before_a_later_in_flight_one(
    store: Store,
) -> None:
    # AWS-recorded (test_fifo_group_visibility_extends_with_change_message_visibility):
    # foo, bar, baz received; bar's visibility extended; foo and baz time out: foo comes
    # back, baz waits behind the in-flight bar
    await put(store, "f", msg("foo", group="g"), msg("bar", group="g"), msg("baz", group="g"))
    got = await receive(store, "f", visibility_s=1, ordered=True)
    assert [m.id for m in got] == ["foo", "bar", "baz"]
    bar = got[1]
    await store.change_visibility(
        "f", [VisibilityChange(seq=bar.seq, receipt=bar.receipt or "", visible_at=T0 + 4)],
        now=T0,
    )  # fmt: skip
    assert [m.id for m in await receive(store, "f", now=T0 + 2, ordered=True)] == ["foo"]


async def test_ordered_receive_waits_for_an_earlier_delayed_message(store: Store) -> None:
    await put(store, "f", msg("a1", group="a", delay=10), msg("a2", group="a"))
    assert await receive(store, "f", ordered=True) == []
    assert [m.id for m in await receive(store, "f", now=T0 + 10, ordered=True)] == ["a1", "a2"]


async def test_redrive_moves_exhausted_messages_atomically(store: Store) -> None:
    target = DeadLetterTarget(queue_id="dlq", max_receive_count=2, source="arn:src")
    await put(store, "src", msg("a", at=T0 - 50), msg("b"))
    for i in range(2):
        got = await receive(store, "src", now=T0 + i, visibility_s=0, dead_letter=target, limit=1)
        assert [m.id for m in got] == ["a"]
    got = await store.receive_messages(
        "src", now=T0 + 2, limit=1, visibility_s=0, sent_after=FOREVER, dead_letter=target
    )
    assert got.moved == 1 and [m.id for m in got.messages] == ["b"]
    counts = await store.count_messages("src", now=T0 + 2, sent_after=FOREVER)
    assert counts == MessageCounts(visible=1)
    (dead,) = await receive(store, "dlq", now=T0 + 2)
    assert dead.id == "a" and dead.body == "body-a" and dead.dead_letter_source == "arn:src"
    assert dead.receive_count == 3 and dead.sent_at == T0 - 50


async def test_redrive_restamps_when_asked(store: Store) -> None:
    target = DeadLetterTarget(queue_id="dlq", max_receive_count=1, source="s", restamp=True)
    await put(store, "src", msg("a", group="g", at=T0 - 50))
    await receive(store, "src", ordered=True, visibility_s=0, dead_letter=target)
    assert await receive(store, "src", ordered=True, now=T0 + 1, dead_letter=target) == []
    (dead,) = await receive(store, "dlq", now=T0 + 1, ordered=True)
    assert dead.sent_at == T0 + 1 and dead.group_id == "g"


async def test_retention_cut_off_and_expiry(store: Store) -> None:
    await put(store, "q", msg("old", at=T0 - 100), msg("new", at=T0))
    await store.put_messages("q", [msg("d", dedup="k")], now=T0, dedup_window_s=10)
    cut = T0 - 50
    got = await store.receive_messages("q", now=T0, limit=10, visibility_s=0, sent_after=cut)
    assert [m.id for m in got.messages] == ["new", "d"]
    assert (await store.count_messages("q", now=T0, sent_after=cut)).visible == 2
    assert await store.expire_messages("q", sent_after=cut, now=T0 + 10) == 1
    assert (await store.count_messages("q", now=T0, sent_after=FOREVER)).visible == 2
    again = await store.put_messages("q", [msg("e", dedup="k")], now=T0 + 10, dedup_window_s=10)
    assert not again[0].duplicate


async def test_purge_keeps_dedup_keys_drop_forgets_them(store: Store) -> None:
    await put(store, "q", msg("a", dedup="k"), msg("b"))
    await receive(store, "q", limit=1)
    assert await store.purge_messages("q") == 2
    assert await receive(store, "q", now=T0 + 100) == []
    dup = await store.put_messages("q", [msg("c", dedup="k")], now=T0, dedup_window_s=WINDOW)
    assert dup[0].duplicate
    await store.drop_queue_messages("q")
    fresh = await store.put_messages("q", [msg("c", dedup="k")], now=T0, dedup_window_s=WINDOW)
    assert not fresh[0].duplicate


async def test_sqlite_messages_survive_reopen_and_are_leased_once(tmp_path: Path) -> None:
    path = str(tmp_path / "q.db")
    one, two = SqliteStore(path), SqliteStore(path)
    await one.open()
    await two.open()
    await one.put_messages("q", [msg(f"m{i}") for i in range(20)], now=T0, dedup_window_s=1)
    seen: list[str] = []
    for store in (one, two) * 5:
        got = await store.receive_messages("q", now=T0, limit=2, visibility_s=30, sent_after=0)
        seen += [m.id for m in got.messages]
    assert sorted(seen) == sorted(f"m{i}" for i in range(20))
    await one.close()
    await two.close()
    again = SqliteStore(path)
    await again.open()
    counts = await again.count_messages("q", now=T0, sent_after=0)
    assert counts == MessageCounts(in_flight=20)
    await again.close()


async def test_peek_reads_without_receiving(store: Store) -> None:
    from sendoff.store.messages import QueuedMessage as _Msg

    queue = "peek-queue"
    await store.put_messages(
        queue,
        [
            _Msg(id="a", body="first", meta={}, sent_at=1.0, visible_at=1.0),
            _Msg(id="b", body="later", meta={}, sent_at=1.0, visible_at=50.0),
            _Msg(id="c", body="second", meta={}, sent_at=2.0, visible_at=2.0),
        ],
        now=2.0,
        dedup_window_s=300,
    )
    peeked = await store.peek_messages(queue, now=10.0, sent_after=0.0, limit=10)
    assert [m.id for m in peeked] == ["a", "c"]
    assert all(m.receive_count == 0 and m.receipt is None for m in peeked)
    assert [m.id for m in await store.peek_messages(queue, now=10.0, sent_after=1.5, limit=10)] == [
        "c"
    ]
    got = await store.receive_messages(queue, now=10.0, limit=10, visibility_s=30, sent_after=0.0)
    assert sorted(m.id for m in got.messages) == ["a", "c"]  # peeking took nothing
    assert await store.peek_messages(queue, now=11.0, sent_after=0.0, limit=10) == []
