"""The SSRF guard's decisions: which addresses each network list denies."""

from __future__ import annotations

from ipaddress import ip_network

import pytest

from tickwork.actions.ssrf import DEFAULT_DENY_NETWORKS, SsrfGuard, TargetDenied
from tickwork.errors import InvalidSpec


@pytest.mark.parametrize(
    ("address", "network"),
    [
        ("169.254.169.254", "169.254.0.0/16"),
        ("fe80::1", "fe80::/10"),
        ("fd00:ec2::254", "fd00:ec2::254/128"),
        ("100.100.100.200", "100.100.100.200/32"),
        ("0.0.0.0", "0.0.0.0/8"),
        ("::ffff:169.254.169.254", "169.254.0.0/16"),
        ("64:ff9b::a9fe:a9fe", "169.254.0.0/16"),
    ],
)
def test_the_default_list_denies_metadata_and_link_local(address: str, network: str) -> None:
    assert SsrfGuard().denied_by(address) == ip_network(network)


@pytest.mark.parametrize("address", ["127.0.0.1", "::1", "10.1.2.3", "192.168.0.10", "8.8.8.8"])
def test_loopback_private_and_public_addresses_are_allowed_by_default(address: str) -> None:
    assert SsrfGuard().denied_by(address) is None


def test_check_raises_naming_the_address_the_network_and_the_host() -> None:
    with pytest.raises(TargetDenied) as raised:
        SsrfGuard().check("169.254.169.254", "metadata.internal")
    assert str(raised.value) == (
        "metadata.internal resolves to address 169.254.169.254 is denied by network "
        "169.254.0.0/16 (TICKWORK_HTTP_DENY_NETWORKS)"
    )


def test_check_host_checks_literal_addresses_only() -> None:
    guard = SsrfGuard.parse("127.0.0.0/8")
    guard.check_host("localhost")  # a name: checked once resolved
    with pytest.raises(TargetDenied):
        guard.check_host("127.0.0.2")


def test_the_environment_replaces_the_default_list() -> None:
    assert SsrfGuard.from_env({}).deny == DEFAULT_DENY_NETWORKS
    assert SsrfGuard.from_env({"TICKWORK_HTTP_DENY_NETWORKS": ""}).deny == ()
    guard = SsrfGuard.from_env({"TICKWORK_HTTP_DENY_NETWORKS": " 10.0.0.0/8 , 10.0.0.1/16,::1"})
    assert guard.deny == (ip_network("10.0.0.0/8"), ip_network("10.0.0.0/16"), ip_network("::1"))
    assert guard.denied_by("169.254.169.254") is None


def test_a_bad_network_is_an_error_naming_the_variable() -> None:
    with pytest.raises(InvalidSpec) as raised:
        SsrfGuard.parse("10.0.0.0/8,nope")
    assert str(raised.value) == (
        "TICKWORK_HTTP_DENY_NETWORKS: 'nope' is not a network (e.g. 10.0.0.0/8)"
    )
