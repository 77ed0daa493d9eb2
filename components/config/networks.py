"""Who may reach a VM: the CIDR keys (adminCidrs, modelCidrs), `auto` resolved to this machine's
address, the world check, and the TTL keys every VM target shares.

The world check counts coverage, not prefixes: `0.0.0.0/1,128.0.0.0/1` opens as much as `0.0.0.0/0`.
A key's networks are too wide when together they hold more public addresses than one /8 (16,777,216);
private, loopback, link-local, shared (CGNAT) and reserved space does not count, since the internet
cannot send from it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import cast

from components import host
from components.config.schema import AUTO, _Reader, known
from components.config.settings import TerminationAction, VmSettings

WORLD_BOUND_PREFIX = 8
WORLD_BOUND = 2 ** (32 - WORLD_BOUND_PREFIX)
# Address space no packet from the internet carries as its source (RFC 6890's special-purpose blocks
# that are not globally reachable), so a rule that admits it opens nothing to the world.
_NOT_PUBLIC = tuple(
    ipaddress.IPv4Network(block)
    for block in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15", "198.51.100.0/24",
        "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4",
    )
)


def public_addresses(cidrs: tuple[str, ...]) -> int:
    """How many globally reachable IPv4 addresses the union of `cidrs` holds."""
    total = 0
    for network in ipaddress.collapse_addresses(ipaddress.IPv4Network(cidr) for cidr in cidrs):
        hidden = 0
        for block in _NOT_PUBLIC:
            if block.subnet_of(network):
                hidden += block.num_addresses
            elif network.subnet_of(block):
                hidden = network.num_addresses
                break
        total += network.num_addresses - hidden
    return total


def too_wide(cidrs: tuple[str, ...]) -> int | None:
    """The public addresses `cidrs` open, when more than WORLD_BOUND; None when they stay within it."""
    count = public_addresses(cidrs)
    return count if count > WORLD_BOUND else None


def world_problem(key: str, given: str, count: int, opens: str, opt_in: str | None) -> str:
    """The refusal of a key whose networks are too wide, naming them, the bound and the opt-in."""
    unless = f" unless {opt_in} is true" if opt_in else ""
    return (
        f"{key}: got {given!r}, networks that together hold {count:,} public addresses; allowed: networks "
        f"that together hold at most {WORLD_BOUND:,} (a /{WORLD_BOUND_PREFIX}){unless} (it would open {opens} to "
        f"{'the whole' if count >= 2**31 else 'much of the'} internet). Fix: pulumi config set {key} auto"
    )


def _resolve_auto(
    read: _Reader, values: dict[str, tuple[str, ...] | str | None], public_ipv4: Callable[[], str]
) -> list[tuple[str, ...] | str | None]:
    """The CIDR keys' values with AUTO replaced by this machine's address as a /32 (looked up once,
    only when a key asks for it), or None with the problem recorded when it cannot be found."""
    if AUTO not in values.values():
        return list(values.values())
    try:
        here: tuple[str, ...] | None = (f"{public_ipv4()}/32",)
    except host.PublicAddressError as error:
        for key, value in values.items():
            if value == AUTO:
                read.problems.append(
                    f"{key}: got 'auto', but the public IPv4 address of this machine could not be found "
                    f"({error}); allowed: auto when it can be looked up, or IPv4 CIDRs. "
                    f"Fix: pulumi config set {key} <your public IP>/32"
                )
        here = None
    return [here if value == AUTO else value for value in values.values()]


def _vm_settings(read: _Reader, public_ipv4: Callable[[], str]) -> VmSettings | None:
    admin = read.cidrs("adminCidrs")
    model = read.cidrs("modelCidrs")
    allow_world = read.boolean("allowWorldAdminAccess")
    ttl = read.integer("vmTtlHours", 0, 720)
    action = read.enum("vmTerminationAction", TerminationAction)
    spot = read.boolean("vmSpot")
    admin, model = _resolve_auto(read, {"adminCidrs": admin, "modelCidrs": model}, public_ipv4)
    if isinstance(admin, tuple) and allow_world is False and (count := too_wide(admin)):
        read.problems.append(
            world_problem(
                "adminCidrs", read.value("adminCidrs"), count, "SSH and the Kubernetes API of the VM", "allowWorldAdminAccess"
            )
        )
    if None in (admin, model, allow_world, ttl, action, spot):
        return None
    return VmSettings(
        admin_cidrs=cast(tuple[str, ...], admin),  # `auto` resolved above: networks only
        model_cidrs=cast(tuple[str, ...], model),
        ttl_hours=known(ttl),
        termination_action=action,
        spot=known(spot),
    )
