"""servebox's policy pack: `pulumi preview --policy-pack policy` (docs/security.md)."""

from pulumi_policy import PolicyPack
from servebox_policies import POLICIES

PolicyPack(name="servebox", policies=POLICIES)
