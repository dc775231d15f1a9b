import os
import uuid

from sendoff.model.ids import ordered_id, random_hex, random_id


def test_random_id_is_a_version_4_uuid() -> None:
    ids = {random_id() for _ in range(1000)}
    assert len(ids) == 1000
    for text in list(ids)[:50]:
        parsed = uuid.UUID(text)
        assert str(parsed) == text
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122


def test_ordered_ids_sort_in_creation_order_and_keep_the_v4_layout() -> None:
    made = [ordered_id() for _ in range(2000)]
    assert len(set(made)) == 2000
    # same millisecond: random order within it; across milliseconds: sorted
    prefixes = [m.replace("-", "")[:12] for m in made]
    assert prefixes == sorted(prefixes)
    assert all(uuid.UUID(m).version == 4 for m in made)


def test_random_hex_is_32_hex_digits() -> None:
    value = random_hex()
    assert len(value) == 32
    int(value, 16)


def test_a_forked_child_does_not_repeat_the_parents_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child
        os.write(write, random_id().encode())
        os._exit(0)
    os.close(write)
    child = os.read(read, 64).decode()
    os.waitpid(pid, 0)
    os.close(read)
    assert child != random_id()
