"""The aws target under mocks: exact resources, parents, dependency edges, and each security
property as its own assertion; its bad configs with their exact messages; its cloud-init.

The mocks answer as AWS would in shape (tests/harness.py: Canonical's AMI parameter, the default VPC
and subnets, a public IP, a bucket name from its prefix). Not proven here: that EC2, IAM and S3
accept these inputs, that the instance boots, k3s installs and the timer fires; the keyless read
path is tested in tests/model/test_storage_pull.py.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
from datetime import UTC, datetime

import pytest
import yaml

from components import outputs, versions
from components.cluster import vm
from components.config import ConfigError
from components.config import aws_architecture as architecture
from tests import harness
from tests.engine import project_settings
from tests.harness import FAKE_AMI, FAKE_STATIC_IP, ProgramRun, run_program

AWS = harness.AWS_STACK
HERE = f"{harness.FAKE_PUBLIC_IPV4}/32"
INSTANCE = "cluster-vm"
BUCKET = "servebox-aws-models-" + harness.FAKE_BUCKET_SUFFIX


def test_every_aws_resource_uses_the_one_aws_provider_with_the_stacks_tags(aws_run: ProgramRun) -> None:
    for name, resource in aws_run.resources.items():
        if resource.type.startswith("aws:"):
            assert "::aws::" in (resource.provider or ""), name
    provider = aws_run["aws"].inputs
    assert provider["region"] == "us-east-1"
    assert json.loads(provider["defaultTags"]) == {"tags": {"servebox:project": "servebox", "servebox:stack": "aws"}}


def test_order_provider_after_kubeconfig_model_after_bucket_object(aws_run: ProgramRun) -> None:
    assert aws_run["cluster-k3s-provider"].depends_on == ["cluster-k3s-kubeconfig"]
    assert aws_run["cluster-k3s-kubeconfig"].depends_on == [INSTANCE]
    assert set(aws_run.upload("model").depends_on) == {
        "store-public-access-block",
        "store-encryption",
        "store-ownership",
        "store-reader",
    }
    assert aws_run.upload_name() in aws_run.waits_on("model-isvc")
    assert "::cluster-k3s-provider::" in aws_run["platform-istio-base"].provider


def _ingress(run: ProgramRun) -> list[dict]:
    return run["cluster-firewall"].inputs["ingress"]


def test_ssh_and_the_api_open_only_to_this_machine_by_default(aws_run: ProgramRun) -> None:
    admin = [rule for rule in _ingress(aws_run) if rule["fromPort"] in (22, 6443)]
    assert [(r["fromPort"], r["toPort"], r["protocol"], r["cidrBlocks"]) for r in admin] == [
        (22, 22, "tcp", [HERE]),
        (6443, 6443, "tcp", [HERE]),
    ]


def test_http_open_only_to_this_machine_and_nothing_else_open(aws_run: ProgramRun) -> None:
    assert sorted(rule["fromPort"] for rule in _ingress(aws_run)) == [22, 80, 6443]
    (http,) = [rule for rule in _ingress(aws_run) if rule["fromPort"] == 80]
    assert http["cidrBlocks"] == [HERE]
    assert all("0.0.0.0/0" not in rule["cidrBlocks"] for rule in _ingress(aws_run))


def test_imdsv2_is_required_with_a_hop_limit_of_two(aws_run: ProgramRun) -> None:
    assert aws_run[INSTANCE].inputs["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 2,
    }


def test_the_root_volume_is_encrypted_gp3_and_goes_with_the_instance(aws_run: ProgramRun) -> None:
    assert aws_run[INSTANCE].inputs["rootBlockDevice"] == {
        "volumeType": "gp3",
        "volumeSize": 30,
        "encrypted": True,
        "deleteOnTermination": True,
    }


def test_the_role_is_assumable_by_ec2_only_and_has_no_policy_of_its_own(aws_run: ProgramRun) -> None:
    role = aws_run["cluster-node-identity"].inputs
    assert json.loads(role["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    assert "managedPolicyArns" not in role and "inlinePolicies" not in role
    assert not aws_run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    assert aws_run["cluster-instance-profile"].inputs["role"] == "servebox-aws"


def test_the_only_grant_is_list_and_get_on_the_model_bucket(aws_run: ProgramRun) -> None:
    (grant,) = aws_run.of_type("aws:iam/rolePolicy:RolePolicy")
    assert grant.inputs["role"] == "servebox-aws"
    assert json.loads(grant.inputs["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [f"arn:aws:s3:::{BUCKET}"]},
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": [f"arn:aws:s3:::{BUCKET}/*"]},
        ],
    }


def test_no_access_key_exists_anywhere(aws_run: ProgramRun) -> None:
    assert not aws_run.of_type("aws:iam/accessKey:AccessKey")
    assert not aws_run.of_type("aws:iam/user:User")
    assert not aws_run.of_type("kubernetes:core/v1:Secret")
    account = aws_run["model-service-account"].inputs
    assert account.get("secrets") is None and account["automountServiceAccountToken"] is False
    assert "AWS_SECRET" not in aws_run[INSTANCE].inputs["userData"]


def test_the_bucket_blocks_public_access_encrypts_and_enforces_the_owner(aws_run: ProgramRun) -> None:
    block = aws_run["store-public-access-block"].inputs
    assert [block[key] for key in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")] == [True] * 4
    (rule,) = aws_run["store-encryption"].inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    assert aws_run["store-ownership"].inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert aws_run["store-bucket"].inputs["forceDestroy"] is True
    assert aws_run.outputs[outputs.MODEL_URI].startswith(f"s3://{BUCKET}/mnist/")


def test_the_key_pair_holds_this_stacks_public_key(aws_run: ProgramRun) -> None:
    assert aws_run["cluster-key-pair"].inputs["publicKey"] == harness.FAKE_SSH_PUBLIC_KEY + "\n"


def test_the_ami_is_canonicals_ubuntu_2404_resolved_once_and_kept(aws_run: ProgramRun) -> None:
    assert aws_run[INSTANCE].inputs["ami"] == FAKE_AMI
    assert versions.AWS_AMI_PARAMETERS["amd64"] == "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id"
    assert {"ami", "userData"} <= set(aws_run[INSTANCE].options.ignore_changes)


def test_instance_type_credits_tags_and_ttl(aws_run: ProgramRun) -> None:
    instance = aws_run[INSTANCE].inputs
    assert instance["instanceType"] == "t3.large"
    assert instance["creditSpecification"] == {"cpuCredits": "unlimited"}
    assert instance["instanceInitiatedShutdownBehavior"] == "terminate"
    assert instance["tags"] == {
        "servebox:project": "servebox",
        "servebox:stack": "aws",
        "Name": "servebox-aws",
        "servebox:expires-at": "2026-12-01T17:30:00Z",
    }
    assert 'tags["servebox:expires-at"]' in aws_run[INSTANCE].options.ignore_changes
    assert aws_run.outputs[outputs.EXPIRES_AT] == "2026-12-01T17:30:00Z"
    assert "instanceMarketOptions" not in instance


def test_the_user_data_arms_the_ttl_timer_at_the_expiry_before_installing_k3s(aws_run: ProgramRun) -> None:
    document = yaml.safe_load(aws_run[INSTANCE].inputs["userData"])
    files = {entry["path"]: entry["content"] for entry in document["write_files"]}
    timer = files["/etc/systemd/system/servebox-ttl.timer"]
    assert "OnCalendar=2026-12-01 17:30:00 UTC\n" in timer and "Persistent=true\n" in timer
    assert "ExecStart=/usr/bin/systemctl poweroff" in files["/etc/systemd/system/servebox-ttl.service"]
    assert document["runcmd"] == [
        ["systemctl", "daemon-reload"],
        ["systemctl", "enable", "--now", "servebox-ttl.timer"],
        ["/usr/local/lib/servebox/install-k3s.sh"],
    ]
    assert "SERVEBOX_CLOUD=aws" in files["/etc/servebox/k3s.env"]


def test_no_ttl_means_no_timer_and_no_expiry() -> None:
    run = run_program({**AWS, "vmTtlHours": "0"}, stack="aws")
    assert "servebox-ttl" not in run[INSTANCE].inputs["userData"]
    assert run.outputs[outputs.EXPIRES_AT] is None


def test_spot_own_network_and_elastic_ip() -> None:
    variant = run_program({**AWS, "awsNetwork": "create", "awsElasticIp": "true", "vmSpot": "true"}, stack="aws")
    assert variant[INSTANCE].inputs["instanceMarketOptions"] == {
        "marketType": "spot",
        "spotOptions": {"instanceInterruptionBehavior": "terminate", "spotInstanceType": "one-time"},
    }
    assert variant["cluster-vpc"].inputs["cidrBlock"] == "10.60.0.0/16"
    k3s = (ipaddress.ip_network("10.42.0.0/16"), ipaddress.ip_network("10.43.0.0/16"))  # its pods and services
    assert not any(ipaddress.ip_network("10.60.0.0/16").overlaps(ranges) for ranges in k3s)
    subnet = variant["cluster-subnet"].inputs
    assert (subnet["cidrBlock"], subnet["mapPublicIpOnLaunch"], subnet["availabilityZone"]) == ("10.60.1.0/24", True, "us-east-1a")
    (route,) = variant["cluster-routes"].inputs["routes"]
    assert route == {"cidrBlock": "0.0.0.0/0", "gatewayId": "cluster-gateway-id"}
    assert variant[INSTANCE].inputs["subnetId"] == "cluster-subnet-id"
    assert "cluster-routes-subnet" in variant[INSTANCE].depends_on
    assert variant["cluster-address"].inputs["domain"] == "vpc"
    assert variant.outputs[outputs.INGRESS_ADDRESS] == f"{FAKE_STATIC_IP}:80"
    assert "cluster-address-association" in variant["cluster-k3s-kubeconfig"].depends_on


def test_the_default_network_is_the_regions_default_vpc(aws_run: ProgramRun) -> None:
    assert aws_run["cluster-firewall"].inputs["vpcId"] == "vpc-0default"
    assert aws_run[INSTANCE].inputs["subnetId"] == "subnet-0aaaa"  # the first default subnet, by id
    assert "cluster-vpc" not in aws_run.resources and "cluster-address" not in aws_run.resources


def test_graviton_types_get_the_arm64_ami() -> None:
    assert [architecture(t) for t in ("t3.large", "t4g.large", "m7g.xlarge", "c7gn.large", "g5.xlarge", "m7i.large")] == [
        "amd64",
        "arm64",
        "arm64",
        "arm64",
        "amd64",
        "amd64",
    ]


def test_the_aws_cloud_init_is_valid_for_cloud_init_schema(tmp_path) -> None:
    found = shutil.which("cloud-init")
    if not found:
        pytest.skip("cloud-init is not installed (scripts/test.sh installs it where apt-get can)")
    path = tmp_path / "user-data.yaml"
    path.write_text(vm.render_cloud_init("aws", datetime(2026, 12, 1, 17, 30, tzinfo=UTC)))
    done = subprocess.run([found, "schema", "--config-file", str(path)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_timer_time_is_one_systemd_reads() -> None:
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    done = subprocess.run([analyze, "calendar", "2026-12-01 17:30:00 UTC"], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0 and "Normalized form: 2026-12-01 17:30:00 UTC" in done.stdout


# --- Bad configs ---------------------------------------------------------------------------------


def _problems(raw: dict, provider: dict | None = None) -> list[str]:
    with pytest.raises(ConfigError) as error:
        project_settings(
            "aws",
            {"target": "aws", **raw, **({"aws:region": "us-east-1"} if provider is None else provider)},
            environ={},
            public_ipv4=lambda: harness.FAKE_PUBLIC_IPV4,
        )
    return error.value.problems


@pytest.mark.parametrize(
    ("raw", "provider", "message"),
    [
        pytest.param(
            {},
            {},
            "aws:region: not set; allowed: the AWS region to create the instance and the bucket in, such as us-east-1 "
            "(or one of AWS_REGION, AWS_DEFAULT_REGION in the environment). Fix: pulumi config set aws:region us-east-1",
            id="no-region",
        ),
        pytest.param(
            {},
            {"aws:region": "us-east-1a"},
            "aws:region: got 'us-east-1a'; allowed: an AWS region such as us-east-1 or eu-west-1 (not a zone). "
            "Fix: pulumi config set aws:region us-east-1",
            id="zone-for-region",
        ),
        pytest.param(
            {"awsInstanceType": "t3 large"},
            None,
            "awsInstanceType: got 't3 large'; allowed: an EC2 instance type such as t3.large, m7i.large or t4g.large. "
            "Fix: pulumi config set awsInstanceType t3.large",
            id="not-an-instance-type",
        ),
        pytest.param(
            {"adminCidrs": "203.0.113.0/33"},
            None,
            "adminCidrs: got '203.0.113.0/33'; allowed: auto, or comma-separated IPv4 CIDRs such as 203.0.113.7/32 "
            "('203.0.113.0/33': not an IPv4 CIDR). Fix: pulumi config set adminCidrs auto",
            id="malformed-cidr",
        ),
        pytest.param(
            {"vmTerminationAction": "stop"},
            None,
            "vmTerminationAction: got 'stop'; allowed: delete on aws (its TTL is a shutdown from inside the VM at an "
            "absolute time, which a restarted VM would repeat at once). Fix: pulumi config set vmTerminationAction delete",
            id="stop-on-aws",
        ),
        pytest.param(
            {"gcpMachineType": "n2d-standard-4"},
            None,
            "gcpMachineType: got 'n2d-standard-4', but it applies to target gcp only and this stack's target is aws; "
            "allowed: unset on aws stacks. Fix: pulumi config rm gcpMachineType",
            id="gcp-key-on-aws",

        ),
        pytest.param(
            {"awsDiskSizeGb": "8"},
            None,
            "awsDiskSizeGb: got '8'; allowed: a whole number from 20 to 500. Fix: pulumi config set awsDiskSizeGb 30",
            id="disk-too-small",
        ),
    ],
)
def test_bad_aws_config_is_refused_with_the_exact_message(raw: dict, provider: dict | None, message: str) -> None:
    assert _problems(raw, provider) == [message]


def test_aws_keys_on_a_gcp_stack_are_refused() -> None:
    with pytest.raises(ConfigError) as error:
        project_settings(
            "gcp",
            {"target": "gcp", "awsElasticIp": "true", "gcp:project": harness.FAKE_GCP_PROJECT},
            environ={},
            public_ipv4=lambda: harness.FAKE_PUBLIC_IPV4,
        )
    assert error.value.problems == [
        "awsElasticIp: got 'true', but it applies to target aws only and this stack's target is gcp; "
        "allowed: unset on gcp stacks. Fix: pulumi config rm awsElasticIp"
    ]


def test_a_long_stack_name_still_gives_a_bucket_prefix_aws_accepts() -> None:
    from components.naming import s3_bucket_prefix

    prefix = s3_bucket_prefix("servebox", "workshop-2026-december-attendee-042")
    assert len(prefix) <= 37 and prefix.endswith("-models-") and prefix.startswith("servebox-workshop")
    assert s3_bucket_prefix("servebox", "aws") == "servebox-aws-models-"
