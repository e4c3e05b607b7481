"""Clustering misunderstood messages into topics, on a small synthetic set with typos."""

from __future__ import annotations

from collections import Counter

import pytest

from studio.clusters import THRESHOLD, Cluster, Encode, cluster, nearest

# Four topics the bot might miss, as customers type them (typos included), and messages
# on nothing in particular. Written for this test; THRESHOLD was chosen on this set.
TOPICS = {
    "rental": [
        "can I rent a tent for the weekend",
        "do you rent out camping gear",
        "is there tent rental",
        "renting a tent for a trip, possible?",
        "cn i rent a tnet",
        "do u do gear rental",
        "how much to rent a tent for 3 nights",
        "rent camping gear instead of buying",
        "can i rent sleeping bags",
        "gear rentals available?",
    ],
    "trade_in": [
        "can I trade in my old boots",
        "do you have a trade in program",
        "trade in old gear for credit",
        "tradein my old tent",
        "can i trade my old backpack in for store credit",
        "trade-in for worn out boots?",
        "do u take trade ins",
        "how does the trade in program work",
        "trade in old jacket",
        "trading in used gear for credit",
    ],
    "bulk": [
        "discount for bulk orders",
        "do you do bulk discounts for a scout group",
        "bulk order of 30 backpacks",
        "buk order discount",
        "is there a discount for ordering in bulk",
        "bulk pricing for our club",
        "we want to place a bulk order for our team",
        "bulk discount for 50 jackets?",
        "can we get bulk pricing",
        "large bulk order discount",
    ],
    "stove": [
        "my stove wont light",
        "the camp stove won't ignite",
        "stove not lighting",
        "emberlite stove doesnt light anymore",
        "why won't my stove light",
        "stove wont ignite after i changed the fuel",
        "my stove will not light up",
        "stove ignition not working",
        "camp stove wont light in the cold",
        "my new stove won't light at all",
    ],
}
NOISE = [
    "hello",
    "what's the weather in boone",
    "thanks so much",
    "is the summit down jacket warm enough for -10",
    "lol",
    "my password reset email never came",
]


def _topic_shares(clusters: list[Cluster], labels: list[str]) -> dict[str, float]:
    """Per topic: the share of its messages in the cluster that holds most of them."""
    where = {index: n for n, c in enumerate(clusters) for index in c.members}
    shares = {}
    for topic in TOPICS:
        placed = Counter(where[i] for i, label in enumerate(labels) if label == topic)
        shares[topic] = max(placed.values()) / sum(placed.values())
    return shares


def _labelled() -> tuple[list[str], list[str]]:
    texts = [text for topic in TOPICS.values() for text in topic] + NOISE
    labels = [name for name, topic in TOPICS.items() for _ in topic] + ["noise"] * len(NOISE)
    return texts, labels


def test_topics_are_separated() -> None:
    texts, labels = _labelled()
    clusters = cluster(texts)
    assert all(share >= 0.8 for share in _topic_shares(clusters, labels).values())
    for found in clusters[:4]:
        assert len({labels[i] for i in found.members}) == 1, found


def test_every_text_is_in_exactly_one_cluster_largest_first() -> None:
    texts, _ = _labelled()
    clusters = cluster(texts)
    members = [i for c in clusters for i in c.members]
    assert sorted(members) == list(range(len(texts)))
    sizes = [len(c.members) for c in clusters]
    assert sizes == sorted(sizes, reverse=True)


def test_terms_name_the_topic() -> None:
    clusters = cluster(TOPICS["stove"] + TOPICS["bulk"])
    assert {clusters[0].terms[0], clusters[1].terms[0]} == {"stove", "bulk"}
    assert all(len(c.terms) == 3 for c in clusters)


def test_members_start_with_the_most_central() -> None:
    texts = ["stove wont light", "my stove wont light", "my stove wont light at all today"]
    [found] = cluster(texts)
    assert found.members == (1, 0, 2)
    assert found.terms[:2] == ("light", "stove")


def test_similar_new_messages_join_ignored_ones() -> None:
    ignored = ["lol", "what's the weather in boone", "will it rain in boone tomorrow"]
    clusters = cluster([*TOPICS["stove"], "weather in boone this weekend?"], ignored=ignored)
    by_member = {i: c for c in clusters for i in c.members}
    assert by_member[len(TOPICS["stove"])].ignored
    assert not by_member[0].ignored


def test_nothing_is_ignored_without_ignored_messages() -> None:
    assert not any(c.ignored for c in cluster(_labelled()[0]))


def test_messages_without_words_still_cluster() -> None:
    clusters = cluster(["??", "!", "can you", "hmm"])
    assert sorted(i for c in clusters for i in c.members) == [0, 1, 2, 3]
    assert [c.members for c in clusters if 0 in c.members] == [(0, 1)]


def test_empty_input_has_no_clusters() -> None:
    assert cluster([]) == []
    assert cluster([], ignored=["hello"]) == []


def test_a_single_text_is_a_cluster_of_one() -> None:
    assert cluster(["where is my order"]) == [Cluster((0,), ("order",), False)]


def test_duplicates_collapse_into_one_cluster() -> None:
    texts = ["Hello!", "hello", "  HELLO  ", "my stove wont light"]
    clusters = cluster(texts, threshold=0.05)
    assert [c.members for c in clusters] == [(0, 1, 2), (3,)]


def test_older_messages_beyond_the_limit_join_the_clusters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("studio.clusters.MAX_CLUSTERED", 8)
    texts = TOPICS["stove"][:4] + TOPICS["bulk"][:4] + TOPICS["stove"][4:] + ["lol what"]
    clusters = cluster(texts)
    assert set(clusters[0].members) == {*range(4), *range(8, 14)}
    assert clusters[-1].members == (14,)


def test_nearest_finds_the_closest_message_within_the_threshold() -> None:
    texts = ["where is my order", "stove wont light", "bulk discount"]
    assert nearest("my stove will not lite", texts) == 1
    assert nearest("qwzx", texts) is None
    assert nearest("anything", []) is None
    assert 0 < THRESHOLD < 1


# By meaning: the same questions in words they do not share, which the word features keep
# apart. Written for this test, not taken from any training data.
PARAPHRASES = {
    "rental": [
        "can I hire a tent for the weekend",
        "do you lend out camping equipment for a fee",
        "I only need a stove for one trip, could I borrow one and pay",
    ],
    "trade_in": [
        "will you give me store credit for my old boots",
        "I want to swap my worn backpack for a discount",
        "do you buy back used gear",
    ],
}


@pytest.fixture(scope="module")
def encode() -> Encode:
    from bot.encoder import Remembered, shared

    return Remembered(shared().encode)


@pytest.mark.slow
def test_the_encoder_groups_by_meaning_where_words_do_not(encode: Encode) -> None:
    texts = [*PARAPHRASES["rental"], *PARAPHRASES["trade_in"], "what's the weather in boone"]
    by_meaning = cluster(texts, encode=encode)
    assert sorted(tuple(sorted(c.members)) for c in by_meaning) == [(0, 1, 2), (3, 4, 5), (6,)]
    assert len(cluster(texts)) > 3  # the words alone leave these apart


@pytest.mark.slow
def test_the_encoder_joins_new_messages_to_ignored_ones(encode: Encode) -> None:
    ignored = ["what's the weather in boone", "will it rain this weekend"]
    texts = [*PARAPHRASES["rental"], "is it going to be sunny on saturday"]
    clusters = cluster(texts, ignored, encode=encode)
    by_member = {i: c for c in clusters for i in c.members}
    assert by_member[3].ignored
    assert not by_member[0].ignored
    assert nearest("any chance of showers tomorrow", ignored, encode=encode) == 1
