"""Wildcard topic matching through a trie."""

from __future__ import annotations

import time

import pytest

from apps.kernel.topics import InvalidTopic, TopicTrie


def names(trie: TopicTrie, topic: str) -> list[str]:
    return [s.name for s in trie.match(topic)]


def test_exact_star_and_hash_patterns():
    trie = TopicTrie()
    for pattern in [
        "data.crm_account.created",
        "data.*.created",
        "data.crm_account.*",
        "data.#",
        "#",
        "data.#.created",
        "flow.*.completed",
        "data.*",
    ]:
        trie.subscribe(pattern, lambda e: None, name=pattern)
    assert names(trie, "data.crm_account.created") == [
        "data.crm_account.created",
        "data.*.created",
        "data.crm_account.*",
        "data.#",
        "#",
        "data.#.created",
    ]
    assert names(trie, "data.crm_lead.updated") == ["data.#", "#"]
    assert names(trie, "data") == ["data.#", "#"]
    assert names(trie, "data.x") == ["data.#", "#", "data.*"]
    assert names(trie, "flow.convert.completed") == ["#", "flow.*.completed"]
    assert names(trie, "artifact.published") == ["#"]


def test_unsubscribe_and_invalid_topics():
    trie = TopicTrie()
    subscription = trie.subscribe("data.*.created", lambda e: None)
    assert len(trie) == 1 and trie.unsubscribe(subscription.id)
    assert trie.match("data.x.created") == [] and not trie.unsubscribe(subscription.id)
    for bad in ["", "data..created", ".data"]:
        with pytest.raises(InvalidTopic):
            trie.subscribe(bad, lambda e: None)
    with pytest.raises(InvalidTopic):
        trie.match("data.*.created")


def _dispatch_seconds(trie: TopicTrie, rounds: int = 2000) -> float:
    started = time.perf_counter()
    for _ in range(rounds):
        trie.match("data.obj7.created")
    return time.perf_counter() - started


def test_dispatch_time_stays_flat_with_ten_thousand_subscriptions():
    small, large = TopicTrie(), TopicTrie()
    for trie, count in ((small, 10), (large, 10_000)):
        for i in range(count):
            trie.subscribe(f"data.obj{i}.created", lambda e: None)
        trie.subscribe("data.*.created", lambda e: None)
        trie.subscribe("data.#", lambda e: None)
    assert len(small.match("data.obj7.created")) == len(large.match("data.obj7.created")) == 3
    # best of 5 to shrug off scheduler noise; a linear scan would be ~1000x slower
    ratio = min(_dispatch_seconds(large) for _ in range(5)) / min(
        _dispatch_seconds(small) for _ in range(5)
    )
    assert ratio < 3, f"dispatch with 10,000 subscriptions took {ratio:.1f}x the time of 10"
