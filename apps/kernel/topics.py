"""Topic subscriptions matched through a trie: dispatch cost follows the topic's depth,
not the number of subscriptions.

Topics are dot-separated words (`data.crm_account.created`). A pattern word `*` matches
exactly one word, `#` matches any number of words, zero included (`data.#` matches
`data` and `data.crm_account.created`), as in AMQP topic exchanges.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[..., Any]


class InvalidTopic(ValueError):
    """A topic or pattern that cannot be used."""


@dataclass(frozen=True)
class Subscription:
    id: int
    pattern: str
    handler: Handler
    name: str


@dataclass
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    subscriptions: dict[int, Subscription] = field(default_factory=dict)


def split(topic: str, *, pattern: bool) -> list[str]:
    words = topic.split(".")
    if not topic or any(not word for word in words):
        raise InvalidTopic(f"invalid topic {topic!r}: use dot-separated words")
    if not pattern and any(word in ("*", "#") for word in words):
        raise InvalidTopic(f"a published topic cannot contain wildcards: {topic!r}")
    return words


class TopicTrie:
    """Thread-safe subscriptions; `match(topic)` returns the matching subscriptions."""

    def __init__(self) -> None:
        self._root = _Node()
        self._paths: dict[int, list[str]] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def subscribe(self, pattern: str, handler: Handler, name: str = "") -> Subscription:
        words = split(pattern, pattern=True)
        subscription = Subscription(
            next(self._ids),
            pattern,
            handler,
            name or getattr(handler, "__qualname__", repr(handler)),
        )
        with self._lock:
            node = self._root
            for word in words:
                node = node.children.setdefault(word, _Node())
            node.subscriptions[subscription.id] = subscription
            self._paths[subscription.id] = words
        return subscription

    def unsubscribe(self, subscription_id: int) -> bool:
        with self._lock:
            words = self._paths.pop(subscription_id, None)
            if words is None:
                return False
            node = self._root
            for word in words:
                node = node.children[word]
            del node.subscriptions[subscription_id]
            return True

    def match(self, topic: str) -> list[Subscription]:
        """Matching subscriptions in subscription order."""
        words = split(topic, pattern=False)
        found: dict[int, Subscription] = {}
        self._walk(self._root, words, 0, found)
        return [found[key] for key in sorted(found)]

    def _walk(
        self, node: _Node, words: list[str], index: int, found: dict[int, Subscription]
    ) -> None:
        hash_node = node.children.get("#")
        if hash_node is not None:  # `#` swallows words[index:], any number of them
            for skip in range(index, len(words) + 1):
                self._walk(hash_node, words, skip, found)
        if index == len(words):
            found.update(node.subscriptions)
            return
        for key in (words[index], "*"):
            child = node.children.get(key)
            if child is not None:
                self._walk(child, words, index + 1, found)

    def ids(self) -> list[int]:
        """Ids of the current subscriptions."""
        return list(self._paths)

    def __len__(self) -> int:
        return len(self._paths)
