"""Kubernetes CPU and memory quantities, as the predictor's requests and limits take them."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_CPU = re.compile(r"(\d+(\.\d+)?)(m?)")
_MEMORY = re.compile(r"(\d+(\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?")
_MEMORY_FACTORS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


def cpu_millicores(quantity: str) -> Decimal | None:
    """A CPU quantity ('250m', '1', '0.5') in millicores, or None when it is not one."""
    match = _CPU.fullmatch(quantity)
    if not match:
        return None
    try:
        number = Decimal(match.group(1))
    except InvalidOperation:
        return None
    return number if match.group(3) else number * 1000


def memory_bytes(quantity: str) -> Decimal | None:
    """A memory quantity ('256Mi', '1Gi', '500M') in bytes, or None when it is not one."""
    match = _MEMORY.fullmatch(quantity)
    if not match:
        return None
    return Decimal(match.group(1)) * _MEMORY_FACTORS[match.group(3)]


_CPU_ALLOWED = "a positive CPU quantity such as 100m, 0.5 or 1"
_MEMORY_ALLOWED = "a positive memory quantity such as 256Mi, 1Gi or 500M"
