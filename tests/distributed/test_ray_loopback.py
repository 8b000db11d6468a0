"""Which Ray addresses are kept on loopback (no Ray cluster needed)."""

from __future__ import annotations

import pytest

from clustering.distributed.loopback import is_loopback, keep_loopback


@pytest.mark.parametrize("address, expected", [
    ("127.0.0.1:6379", True), ("localhost:6379", True), ("[::1]:6379", True),
    ("127.0.0.1", True), ("10.0.0.5:6379", False), ("ray://127.0.0.1:10001", False),
    ("auto", False), (None, False)])
def test_loopback_addresses(address: str | None, expected: bool) -> None:
    assert is_loopback(address) is expected


def test_loopback_hosts_are_kept_and_others_still_rewritten() -> None:
    import ray._private.services as services

    keep_loopback()
    keep_loopback()  # twice: still one layer over Ray's own function
    assert services.resolve_ip_for_localhost("127.0.0.1") == "127.0.0.1"
    assert services.resolve_ip_for_localhost("10.0.0.5") == "10.0.0.5"
    assert not hasattr(services.resolve_ip_for_localhost.__wrapped__, "__wrapped__")
