"""The VM targets' plans, run once per session: test_gcp.py, test_aws.py and test_vm_targets.py
all read the same run of each."""

import pytest

from tests.harness import AWS_STACK, GCP_STACK, ProgramRun, run_program


@pytest.fixture(scope="session")
def gcp_run() -> ProgramRun:
    return run_program(GCP_STACK, stack="gcp")


@pytest.fixture(scope="session")
def aws_run() -> ProgramRun:
    return run_program(AWS_STACK, stack="aws")
