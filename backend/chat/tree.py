"""A conversation's messages as a tree: edits and regenerations are siblings; one branch is current.

Each message names its parent; the conversation names its current leaf, and
the path from that leaf up to its root is the branch the member sees and the
model is sent. A conversation with no current leaf is flat (a /v1 call's
record, or one with no messages yet): every message, in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar


class Node(Protocol):
    pk: int
    parent_id: int | None


N = TypeVar("N", bound=Node)


def branch_to(messages: Iterable[N], leaf_id: int | None) -> list[N]:
    """The messages from the root down to `leaf_id` (all of them, in order, when there is no leaf)."""
    ordered = sorted(messages, key=lambda m: m.pk)
    if leaf_id is None:
        return ordered
    by_id = {m.pk: m for m in ordered}
    path: list[N] = []
    node = by_id.get(leaf_id)
    while node is not None and len(path) <= len(by_id):  # the bound stops a cycle, which no write makes
        path.append(node)
        node = by_id.get(node.parent_id) if node.parent_id is not None else None
    path.reverse()
    return path


def newest_leaf_under(messages: Sequence[N], message_id: int) -> int:
    """The leaf reached from `message_id` by always taking the newest child: where switching to it lands."""
    children: dict[int | None, list[int]] = {}
    for m in messages:
        children.setdefault(m.parent_id, []).append(m.pk)
    node = message_id
    while children.get(node):
        node = max(children[node])
    return node
