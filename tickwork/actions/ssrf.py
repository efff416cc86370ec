"""The SSRF guard: http steps never connect to a denied network (cloud metadata by default).

Anyone who may write a schedule may make the worker send requests, so the worker must not
become a way to reach what only it can reach. The default deny list covers the metadata
services (link-local, where 169.254.169.254 lives; AWS's IPv6 ``fd00:ec2::254``;
Alibaba's ``100.100.100.200``) and ``0.0.0.0/8``. Loopback and private ranges are allowed:
Tickwork is self-hosted and usually calls services running next to it; deny them with
``TICKWORK_HTTP_DENY_NETWORKS`` where that is wrong.

The check is on the addresses the connector actually connects to, not on the URL: a
resolver wrapper drops denied addresses from every DNS answer (so a name that resolves to
an allowed address at validation and to a denied one later, DNS rebinding, still cannot
get through), and the connector checks literal IP hosts, which skip the resolver. IPv4
addresses embedded in IPv6 (``::ffff:a.b.c.d``, NAT64 ``64:ff9b::/96``) are checked as
the IPv4 address they reach.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import Any

from aiohttp import ClientRequest, ClientTimeout, TCPConnector
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.connector import Connection
from aiohttp.resolver import DefaultResolver
from aiohttp.tracing import Trace

from tickwork.errors import InvalidSpec, TickworkError

__all__ = [
    "DEFAULT_DENY_NETWORKS",
    "DENY_NETWORKS_ENV",
    "GuardedConnector",
    "GuardedResolver",
    "SsrfGuard",
    "TargetDenied",
]

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address

DENY_NETWORKS_ENV = "TICKWORK_HTTP_DENY_NETWORKS"

DEFAULT_DENY_NETWORKS: tuple[Network, ...] = tuple(
    ip_network(cidr)
    for cidr in (
        "169.254.0.0/16",  # IPv4 link-local: cloud metadata at 169.254.169.254
        "fe80::/10",  # IPv6 link-local
        "fd00:ec2::254/128",  # AWS metadata over IPv6
        "100.100.100.200/32",  # Alibaba Cloud metadata
        "0.0.0.0/8",  # "this network": 0.0.0.0 reaches the local host on Linux
    )
)

_NAT64 = IPv6Network("64:ff9b::/96")


class TargetDenied(TickworkError):
    """A request to an address the guard denies; nothing was sent."""

    def __init__(self, address: Address, network: Network, host: str | None = None) -> None:
        self.address = address
        self.network = network
        self.host = host
        via = f"{host} resolves to " if host and host != str(address) else ""
        super().__init__(
            f"{via}address {address} is denied by network {network} ({DENY_NETWORKS_ENV})"
        )


@dataclass(frozen=True, slots=True)
class SsrfGuard:
    """The networks http steps may not connect to."""

    deny: tuple[Network, ...] = DEFAULT_DENY_NETWORKS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SsrfGuard:
        """``TICKWORK_HTTP_DENY_NETWORKS`` (comma-separated CIDRs) replaces the default
        list; set but empty denies nothing; unset keeps the default."""
        env = os.environ if environ is None else environ
        text = env.get(DENY_NETWORKS_ENV)
        return cls() if text is None else cls.parse(text)

    @classmethod
    def parse(cls, text: str) -> SsrfGuard:
        """A guard denying the comma-separated CIDRs in ``text``."""
        return cls(deny=tuple(_parse_network(part) for part in text.split(",") if part.strip()))

    def denied_by(self, address: str | Address) -> Network | None:
        """The network denying ``address``, or None when it may be connected to."""
        for candidate in _reached(ip_address(address) if isinstance(address, str) else address):
            for network in self.deny:
                if candidate.version == network.version and candidate in network:
                    return network
        return None

    def check(self, address: str | Address, host: str | None = None) -> None:
        """:class:`TargetDenied` when ``address`` (``host``'s, if given) is denied."""
        parsed = ip_address(address) if isinstance(address, str) else address
        network = self.denied_by(parsed)
        if network is not None:
            raise TargetDenied(parsed, network, host)

    def check_host(self, host: str) -> None:
        """Check ``host`` if it is a literal IP address; names are checked once resolved."""
        try:
            address = ip_address(host)
        except ValueError:
            return
        self.check(address)


def _parse_network(text: str) -> Network:
    try:
        return ip_network(text.strip(), strict=False)
    except ValueError:
        raise InvalidSpec(
            DENY_NETWORKS_ENV, repr(text.strip()), "is not a network (e.g. 10.0.0.0/8)"
        ) from None


def _reached(address: Address) -> Iterable[Address]:
    """``address`` and, for IPv6 carrying an IPv4 address, that IPv4 address."""
    yield address
    if isinstance(address, IPv6Address):
        if address.ipv4_mapped is not None:
            yield address.ipv4_mapped
        elif address in _NAT64:
            yield IPv4Address(int(address) & 0xFFFFFFFF)


class GuardedResolver(AbstractResolver):
    """Resolves with ``inner`` and drops every denied address from the answer.

    If every address is denied, :class:`TargetDenied` names the first one; with some
    allowed, only those are returned, so the connector never tries a denied one.
    """

    def __init__(self, guard: SsrfGuard, inner: AbstractResolver | None = None) -> None:
        self._guard = guard
        self._inner = DefaultResolver() if inner is None else inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = [result for result in results if self._guard.denied_by(result["host"]) is None]
        if results and not allowed:
            self._guard.check(results[0]["host"], host)
        return allowed

    async def close(self) -> None:
        await self._inner.close()


_PASSED_HOSTS = 4096
"""Hosts a connector remembers as checked (then it starts again): a literal address is
parsed once, not for every request to it."""


class GuardedConnector(TCPConnector):
    """A ``TCPConnector`` that resolves through a :class:`GuardedResolver` and checks
    literal IP hosts (which aiohttp connects to without asking the resolver)."""

    def __init__(self, guard: SsrfGuard, **kwargs: Any) -> None:
        self._guarded_resolver = GuardedResolver(guard)
        super().__init__(resolver=self._guarded_resolver, **kwargs)
        self._guard = guard
        self._passed: set[str] = set()  # hosts check_host let through (the guard is frozen)

    async def connect(
        self, req: ClientRequest, traces: list[Trace], timeout: ClientTimeout
    ) -> Connection:
        host = req.url.host
        if host is not None and host not in self._passed:
            self._guard.check_host(host)
            if len(self._passed) >= _PASSED_HOSTS:
                self._passed.clear()
            self._passed.add(host)
        return await super().connect(req, traces, timeout)

    async def close(self, *, abort_ssl: bool = False) -> None:
        try:
            await super().close(abort_ssl=abort_ssl)
        finally:
            await self._guarded_resolver.close()
