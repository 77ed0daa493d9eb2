"""What the program reads from the machine it runs on, besides config: the time and its public address.

This is the one seam between the program and the outside world at plan time; tests replace these
two functions (tests/harness.py) so that a mock run is deterministic and offline.
"""

from __future__ import annotations

import ipaddress
import urllib.error
import urllib.request
from datetime import UTC, datetime

# Plain-text "what is my IP" services run by cloud providers; the first that answers wins.
PUBLIC_ADDRESS_SERVICES = ("https://checkip.amazonaws.com", "https://api.ipify.org")
LOOKUP_TIMEOUT_SECONDS = 5.0


class PublicAddressError(RuntimeError):
    """This machine's public IPv4 address could not be found."""


def now() -> datetime:
    """The current time, in UTC."""
    return datetime.now(UTC)


def public_ipv4() -> str:
    """The public IPv4 address this machine reaches the internet from (what a cloud firewall sees)."""
    failures = []
    for url in PUBLIC_ADDRESS_SERVICES:
        try:
            with urllib.request.urlopen(url, timeout=LOOKUP_TIMEOUT_SECONDS) as response:  # noqa: S310 (fixed https URLs)
                text = response.read(64).decode("ascii", errors="replace").strip()
        except (urllib.error.URLError, OSError, ValueError) as error:
            failures.append(f"{url}: {getattr(error, 'reason', error)}")
            continue
        try:
            address = ipaddress.IPv4Address(text)
        except ValueError:
            failures.append(f"{url}: answered {text!r}, not an IPv4 address")
            continue
        if not address.is_global:
            failures.append(f"{url}: answered {text}, which is not a public address")
            continue
        return str(address)
    raise PublicAddressError("; ".join(failures))
