"""The Redis keys Celery's broker transport (kombu) leaves behind a stopped stack.

kombu keeps its exchange-to-queue binding tables in Redis sets named
``_kombu.binding.<exchange>`` (with ``_kombu.binding_permanent.<exchange>``
and ``_kombu.binding_deadlines`` to expire them), under the stack's
``global_keyprefix``. They outlive the workers; ``dataops down`` removes the
stack's own. Queues and unacknowledged messages stay: a restarted stack can
still deliver them.
"""

from __future__ import annotations

import re


def binding_key_patterns() -> list[str]:
    """kombu's names for its binding keys, as glob patterns (without the stack's prefix)."""
    from kombu.transport.redis import Channel

    return [
        Channel.keyprefix_queue % "*",
        Channel.keyprefix_binding_permanent % "*",
        Channel.keyprefix_binding_deadlines,
    ]


def glob_escape(text: str) -> str:
    """``text`` matched literally in a Redis SCAN pattern."""
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def remove_binding_keys(redis_url: str, prefix: str) -> int:
    """Deletes the stack's kombu binding keys (those under ``prefix``); returns how many.

    Only keys that are exactly ``prefix`` + one of kombu's names go: another
    stack's keys, even under a longer prefix that starts with this one
    (``dataops:`` and ``dataops:team:``), do not match.
    """
    import redis

    client = redis.Redis.from_url(redis_url, socket_connect_timeout=5, socket_timeout=10)
    try:
        keys = {key for pattern in binding_key_patterns()
                for key in client.scan_iter(match=glob_escape(prefix) + pattern, count=1000)}
        return client.delete(*keys) if keys else 0
    finally:
        client.close()
