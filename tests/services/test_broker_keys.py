"""``dataops down`` removes the stack's kombu binding keys from Redis, and
nothing of another stack sharing that Redis (real Redis)."""

from __future__ import annotations

import uuid

import pytest
import redis

from dataops.local.services.broker_keys import binding_key_patterns, remove_binding_keys

pytestmark = pytest.mark.services


@pytest.fixture
def keys(redis_url):
    client = redis.Redis.from_url(redis_url)
    uid = uuid.uuid4().hex[:8]
    ours = f"dataops-test-{uid}:"
    made: list[str] = []

    def make(*names: str) -> None:
        for name in names:
            client.sadd(name, "member")
            made.append(name)

    yield client, ours, make
    if made:
        client.delete(*made)
    client.close()


def test_kombu_names_its_binding_keys_as_down_expects():
    assert binding_key_patterns() == ["_kombu.binding.*", "_kombu.binding_permanent.*", "_kombu.binding_deadlines"]


def test_only_the_stacks_own_binding_keys_are_removed(keys, redis_url):
    client, ours, make = keys
    own = [f"{ours}_kombu.binding.default", f"{ours}_kombu.binding.celery.pidbox",
           f"{ours}_kombu.binding_permanent.default", f"{ours}_kombu.binding_deadlines"]
    others = [
        f"{ours}team:_kombu.binding.default",  # a stack whose prefix starts with ours
        f"{ours[:-1]}x:_kombu.binding.default",  # a prefix ours is a prefix of, minus the colon
        f"_kombu.binding.{ours}default",  # no prefix at all
        f"{ours}default",  # the stack's queue: messages a restarted stack still delivers
        f"{ours}unacked",
    ]
    make(*own, *others)
    assert remove_binding_keys(redis_url, ours) == len(own)
    assert not any(client.exists(k) for k in own)
    assert all(client.exists(k) for k in others), [k for k in others if not client.exists(k)]
    assert remove_binding_keys(redis_url, ours) == 0


def test_a_prefix_with_glob_characters_matches_only_itself(keys, redis_url):
    client, ours, make = keys
    star = ours.replace(":", "*:")
    make(f"{star}_kombu.binding.default", f"{ours[:-1]}zz:_kombu.binding.default")
    assert remove_binding_keys(redis_url, star) == 1
    assert client.exists(f"{ours[:-1]}zz:_kombu.binding.default")
