"""Narrowing for tests: a value the test knows is there, checked and typed without its `None`."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T")


def must(value: T | None) -> T:
    """The value itself; a test failure (not an AttributeError later) when it is None."""
    assert value is not None, "expected a value, got None"
    return value
