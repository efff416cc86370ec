"""HMAC signing and verification, and where the keys come from."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import pytest

from tickwork.actions.signing import (
    SecretNotConfigured,
    Secrets,
    secret_env_name,
    sign,
    signature,
    verify,
)

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
STAMP = int(NOW.timestamp())
BODY = b'{"day":"monday"}'


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    expected = hmac.new(b"k", f"{STAMP}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert signature(b"k", STAMP, BODY) == f"v1={expected}"
    assert sign(b"k", BODY, timestamp=STAMP) == {
        "X-Tickwork-Timestamp": str(STAMP),
        "X-Tickwork-Signature": f"v1={expected}",
    }


def test_verify_accepts_the_right_key_body_and_a_recent_timestamp() -> None:
    headers = sign(b"k", BODY, timestamp=STAMP)
    stamp, sig = headers["X-Tickwork-Timestamp"], headers["X-Tickwork-Signature"]
    assert verify(b"k", BODY, timestamp=stamp, signature_header=sig, now=NOW)
    assert not verify(b"other", BODY, timestamp=stamp, signature_header=sig, now=NOW)
    assert not verify(b"k", BODY + b" ", timestamp=stamp, signature_header=sig, now=NOW)
    later = NOW + timedelta(minutes=5, seconds=1)
    assert not verify(b"k", BODY, timestamp=stamp, signature_header=sig, now=later)
    assert verify(
        b"k", BODY, timestamp=stamp, signature_header=sig, now=later, tolerance=timedelta(hours=1)
    )


def test_verify_accepts_one_of_several_signatures_during_key_rotation() -> None:
    both = f"{signature(b'old', STAMP, BODY)}, {signature(b'new', STAMP, BODY)}"
    assert verify(b"new", BODY, timestamp=str(STAMP), signature_header=both, now=NOW)


@pytest.mark.parametrize(
    ("stamp", "sig"),
    [(None, "v1=00"), (str(STAMP), None), ("12a", "v1=00"), ("²", "v1=00"), (str(STAMP), "")],
)
def test_verify_rejects_missing_or_malformed_headers(stamp: str | None, sig: str | None) -> None:
    assert not verify(b"k", BODY, timestamp=stamp, signature_header=sig, now=NOW)


def test_verify_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        verify(b"k", BODY, timestamp="1", signature_header="v1=0", now=datetime(2026, 1, 1))


def test_secrets_come_from_the_environment() -> None:
    secrets = Secrets.from_env(
        {
            "TICKWORK_SECRET_BILLING_V2": "named-key",
            "TICKWORK_SECRET_EMPTY": "",
            "TICKWORK_SIGNING_SECRET": "global-key",
            "UNRELATED": "x",
        }
    )
    assert secrets.key_for("billing.v2") == b"named-key"
    assert secrets.key_for("Billing-V2") == b"named-key"
    assert secrets.key_for(None) == b"global-key"
    with pytest.raises(SecretNotConfigured) as raised:
        secrets.key_for("empty")
    assert str(raised.value) == "secret 'empty' is not configured: set TICKWORK_SECRET_EMPTY"


def test_without_any_secret_nothing_is_signed() -> None:
    assert Secrets.from_env({}).key_for(None) is None


def test_env_names_and_repr_never_show_keys() -> None:
    assert secret_env_name("a-b.c") == "TICKWORK_SECRET_A_B_C"
    shown = repr(Secrets.of({"billing": b"s3cr3t"}, default=b"g10bal"))
    assert "s3cr3t" not in shown and "g10bal" not in shown and "TICKWORK_SECRET_BILLING" in shown
