"""Who may reach a VM: the CIDR keys (adminCidrs, modelCidrs), `auto` resolved to this machine's
address, the world check, and the TTL keys every VM target shares."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import cast

from components import host
from components.config.schema import AUTO, _Reader, known
from components.config.settings import TerminationAction, VmSettings


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
    if isinstance(admin, tuple) and allow_world is False:
        world = [cidr for cidr in admin if ipaddress.IPv4Network(cidr).prefixlen == 0]
        if world:
            read.problems.append(
                f"adminCidrs: got {read.value('adminCidrs')!r}; allowed: networks narrower than {world[0]} unless "
                "allowWorldAdminAccess is true (it would open SSH and the Kubernetes API of the VM to the "
                "whole internet). Fix: pulumi config set adminCidrs auto"
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
