"""scripts/bench_footprint.py: the request merge, the sums, the wait-chain computation, coverage of
every platform Deployment by our values, the model store and the sample model read from where the
program sets them, and one end-to-end run of its --json output.

The chart defaults in the script are upstream facts; these tests cannot re-read the charts, but they
fail when a pin moves away from the version the facts were read at.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from decimal import Decimal

import pytest

from components.config import DeploymentMode, config_schema
from components.platform import knative
from components.storage import minio
from tests.harness import REPO, ProgramRun, Registered

_SPEC = importlib.util.spec_from_file_location("bench_footprint", REPO / "scripts" / "bench_footprint.py")
bench = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = bench  # dataclasses look their module up while the class is built
_SPEC.loader.exec_module(bench)

Requests = bench.Requests
MiB = 2**20
GiB = 2**30


# --- The effective-request merge ---------------------------------------------------------------
def test_our_value_wins_over_the_chart_default():
    assert bench.effective(Requests("10m", "32Mi"), Requests("500m", "2048Mi")) == Requests("10m", "32Mi")


def test_the_chart_default_is_used_where_ours_is_absent():
    assert bench.effective(Requests(), Requests("100m", "128Mi")) == Requests("100m", "128Mi")


def test_the_merge_is_per_resource_like_helm_and_the_knative_operator():
    assert bench.effective(Requests(cpu="25m"), Requests("100m", "128Mi")) == Requests("25m", "128Mi")
    assert bench.effective(Requests(memory="64Mi"), Requests("100m", "128Mi")) == Requests("100m", "64Mi")


def test_neither_set_means_no_request():
    merged = bench.effective(Requests(), Requests())
    assert merged == Requests() and merged.millicores == 0 and merged.bytes == 0


def test_requests_are_read_from_a_resources_block():
    assert Requests.of({"requests": {"cpu": 1, "memory": "1Gi"}, "limits": {"cpu": "2"}}) == Requests("1", "1Gi")
    assert Requests.of({"limits": {"cpu": "2"}}) == Requests()
    assert Requests.of(None) == Requests()


def test_a_workload_row_merges_our_values_over_its_default():
    row = next(w for w in bench.WORKLOADS if w.name == "istiod")
    assert row.default == Requests("500m", "2048Mi")
    assert row.ours(DeploymentMode.KNATIVE) == Requests.of(bench.istio.istiod_values()["resources"])
    assert row.effective(DeploymentMode.KNATIVE) == row.ours(DeploymentMode.KNATIVE)


def test_a_row_our_values_do_not_set_keeps_the_default():
    row = next(w for w in bench.WORKLOADS if w.name == "cleanup-serving-")
    assert row.ours(DeploymentMode.KNATIVE) == Requests()
    assert row.effective(DeploymentMode.KNATIVE) == Requests("100m", "100Mi")


# --- Quantities and sums -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("requests", "millicores", "size"),
    [
        (Requests("250m", "256Mi"), 250, 256 * MiB),
        (Requests("1", "1Gi"), 1000, GiB),
        (Requests("0.5", "500M"), 500, 500 * 10**6),
        (Requests("2", "64Ki"), 2000, 64 * 2**10),
        (Requests("100m", "1G"), 100, 10**9),
    ],
)
def test_quantities_are_parsed_with_their_units(requests, millicores, size):
    assert requests.millicores == millicores
    assert requests.bytes == size


def test_quantities_sum_across_units():
    summed = bench.total([Requests("250m", "256Mi"), Requests("1", "1Gi"), Requests("0.5", "500M"), Requests()])
    assert summed.millicores == 1750
    assert summed.bytes == 256 * MiB + GiB + 500 * 10**6


def test_an_empty_sum_is_zero():
    assert bench.total([]) == bench.Sum(Decimal(0), Decimal(0))


@pytest.mark.parametrize("bad", [Requests(cpu="lots"), Requests(memory="12 apples")])
def test_a_value_that_is_not_a_quantity_is_an_error(bad):
    with pytest.raises(ValueError, match="not a"):
        bench.total([bad])


def test_component_sums_add_up_to_the_total():
    for mode in bench.MODES:
        figures = bench.footprint(mode)
        assert bench.total(figures["components"].values()) == figures["total"]


def test_standard_mode_leaves_out_knative_and_nothing_else():
    knative_mode = bench.footprint(DeploymentMode.KNATIVE)
    standard_mode = bench.footprint(DeploymentMode.STANDARD)
    assert "knative" not in standard_mode["components"]
    assert standard_mode["components"] == {k: v for k, v in knative_mode["components"].items() if k != "knative"}


# --- The model store and the sample model ---------------------------------------------------------
def _store():
    (row,) = [w for w in bench.WORKLOADS if w.component == "store"]
    return row


@pytest.mark.parametrize("mode", bench.MODES, ids=lambda m: m.value)
def test_the_store_runs_with_minio_server_resources(mode):
    row = _store()
    assert (row.kind, row.name, row.container, row.own) == ("Deployment", "minio", "minio", True)
    assert row.default == Requests()  # our own Deployment: no chart, no default
    assert row.ours(mode) == row.effective(mode) == Requests.of(minio.SERVER_RESOURCES)
    assert row.effective(mode).cpu == minio.SERVER_RESOURCES["requests"]["cpu"]
    assert row.effective(mode).memory == minio.SERVER_RESOURCES["requests"]["memory"]


@pytest.mark.parametrize("mode", bench.MODES, ids=lambda m: m.value)
def test_the_platform_totals_include_the_store(mode):
    figures = bench.footprint(mode)
    store = Requests.of(minio.SERVER_RESOURCES)
    assert figures["components"]["store"] == bench.Sum() + store
    others = [w for w in figures["rows"] if w.kind == "Deployment" and w.component != "store"]
    assert figures["total"] == bench.total(w.effective(mode) for w in others) + store
    without_store = bench.footprint(mode, [w for w in bench.WORKLOADS if w.component != "store"])
    assert figures["total"] == without_store["total"] + store


@pytest.mark.parametrize("mode", bench.MODES, ids=lambda m: m.value)
def test_the_predictor_runs_with_the_pulumi_yaml_defaults(mode):
    schema = config_schema()
    (row,) = bench.MODEL_WORKLOADS
    assert (row.component, row.name, row.container) == (
        "model",
        f"{schema['modelName'].default}-predictor",
        "kserve-container",
    )
    assert row.in_mode(mode) and row.own and row.default == Requests()
    assert row.effective(mode) == Requests(schema["modelCpuRequest"].default, schema["modelMemoryRequest"].default)


def test_the_sample_model_runs_one_replica_by_default():
    # The footprint counts one replica of every workload; the predictor's is modelMinReplicas.
    assert bench.SAMPLE_MODEL.min_replicas == config_schema()["modelMinReplicas"].default == 1


@pytest.mark.parametrize("mode", bench.MODES, ids=lambda m: m.value)
def test_the_sample_model_is_on_top_of_the_platform_not_in_it(mode):
    figures = bench.footprint(mode)
    assert "model" not in figures["components"]
    assert not set(figures["model_rows"]) & set(figures["rows"])
    assert figures["model"] == bench.total(w.effective(mode) for w in bench.MODEL_WORKLOADS)
    assert figures["total_with_model"] == figures["total"] + figures["model"]
    assert figures["model"].millicores > 0 and figures["model"].bytes > 0


def test_jobs_are_transient_and_not_counted():
    figures = bench.footprint(DeploymentMode.KNATIVE)
    jobs = [w for w in figures["rows"] if w.kind == "Job"]
    assert {w.name for w in figures["transient"]} == {w.name for w in jobs} != set()
    deployments = [w for w in figures["rows"] if w.kind == "Deployment"]
    assert figures["total"] == bench.total(w.effective(DeploymentMode.KNATIVE) for w in deployments)


# --- Values paths --------------------------------------------------------------------------------
def test_lookup_walks_keys_and_picks_list_entries_by_field():
    document = {"a": {"b": 1}, "items": [{"name": "x", "inner": [{"container": "c", "v": 2}]}]}
    assert bench.lookup(document, "a.b") == 1
    assert bench.lookup(document, "items[name=x].inner[container=c].v") == 2
    assert bench.lookup(document, "items[name=y].inner") is None
    assert bench.lookup(document, "a.missing.deeper") is None
    assert bench.lookup(document, "a.b.c") is None
    assert bench.lookup(document, "") is document


# --- Coverage: our values set every Deployment's requests --------------------------------------
@pytest.mark.parametrize("mode", bench.MODES, ids=lambda m: m.value)
def test_every_deployment_has_a_nonzero_request_set_by_our_values(mode):
    deployments = [w for w in bench.footprint(mode)["rows"] if w.kind == "Deployment"]
    assert deployments
    for w in deployments:
        ours = w.ours(mode)
        assert ours.cpu is not None and ours.memory is not None, (
            f"{w.values} sets no cpu/memory request at {w.path} for {w.name}/{w.container}"
        )
        assert w.effective(mode).millicores > 0 and w.effective(mode).bytes > 0


def test_the_serving_rows_are_the_workloads_knative_py_overrides():
    serving = {
        (w.name, w.container)
        for w in bench.WORKLOADS
        if w.values == "knative.knative_serving(ip)" and w.kind == "Deployment"
    }
    assert serving == set(knative.SERVING_WORKLOADS)


def test_every_row_names_its_source_at_a_tag_and_our_values_function():
    for w in (*bench.WORKLOADS, *bench.MODEL_WORKLOADS):
        assert w.values in bench.OUR_VALUES
        if w.own:  # our own manifest: the module in this repository that builds it, and no default
            assert (REPO / w.source).is_file() and w.default == Requests(), w.source
        else:
            repo, _, rest = w.source.partition(":")
            assert "/" in repo and "@" in rest, w.source


def test_the_chart_defaults_were_read_at_the_pinned_versions():
    assert bench.stale_facts() == []


# --- The readiness-wait chain on a hand-built graph -----------------------------------------------
RELEASE = "kubernetes:helm.sh/v3:Release"
COMMAND = "command:local:Command"


def _resource(name, type_, *, parent=None, depends_on=(), custom=True, annotations=None):
    inputs = {"metadata": {"annotations": annotations}} if annotations else {}
    return Registered(type_, name, custom, inputs, None, parent, list(depends_on))


def _run(*resources) -> ProgramRun:
    return ProgramRun({r.name: r for r in resources}, {}, set())


def _platform_graph(*extra) -> ProgramRun:
    """a -> b inside component `comp`; c depends on the component (so on a and b); a Namespace
    between c and an awaited custom resource; a probe; a release whose parent depends on the probe."""
    return _run(
        _resource("cluster", "servebox:cluster:KindCluster", custom=False),
        _resource("cluster-cluster", COMMAND, parent="cluster"),
        _resource("comp", "servebox:platform:A", custom=False),
        _resource("a", RELEASE, parent="comp"),
        _resource("b", RELEASE, parent="comp", depends_on=["a"]),
        _resource("c", RELEASE, depends_on=["comp"]),
        _resource("ns", "kubernetes:core/v1:Namespace", depends_on=["c"]),
        _resource("thing", "kubernetes:example.com/v1:Thing", depends_on=["ns"],
                  annotations={bench.WAIT_FOR: "condition=Ready"}),
        _resource("unawaited", "kubernetes:example.com/v1:Thing", depends_on=["thing"]),
        _resource("x-webhook-ready", COMMAND, depends_on=["thing"]),
        _resource("comp2", "servebox:platform:B", custom=False, depends_on=["x-webhook-ready"]),
        _resource("e", RELEASE, parent="comp2"),
        _resource("z", RELEASE),
        *extra,
    )  # fmt: skip


def test_waits_are_releases_awaited_custom_resources_and_probes():
    waits, left_out = bench.classify(_platform_graph())
    assert set(waits) == {"a", "b", "c", "thing", "x-webhook-ready", "e", "z"}
    assert left_out == {"cluster-cluster": "cluster creation (kind), not a platform wait"}


def test_a_dependency_on_a_component_waits_for_all_its_descendants():
    run = _platform_graph()
    assert bench.longest_chain(["a", "b", "c"], run.waits_on) == ["a", "b", "c"]


def test_the_chain_follows_dependencies_through_non_waits_and_parents():
    result = bench.chains(_platform_graph())
    assert result["platform"] == ["a", "b", "c", "thing", "x-webhook-ready", "e"]
    assert result["with_model"] is None


def test_model_waits_give_a_second_chain_and_stay_out_of_the_platform_chain():
    run = _platform_graph(
        _resource("model", "servebox:model:Model", custom=False, depends_on=["e"]),
        _resource("model-isvc", "kubernetes:serving.kserve.io/v1beta1:InferenceService", parent="model"),
        _resource("model-smoke-test", COMMAND, parent="model", depends_on=["model-isvc"]),
    )
    result = bench.chains(run)
    assert result["platform"] == ["a", "b", "c", "thing", "x-webhook-ready", "e"]
    assert result["with_model"] == [*result["platform"], "model-isvc", "model-smoke-test"]


def test_equal_chains_are_broken_by_name():
    run = _run(
        _resource("q", RELEASE),
        _resource("p", RELEASE),
        _resource("r", RELEASE, depends_on=["q", "p"]),
    )
    assert bench.longest_chain(["p", "q", "r"], run.waits_on) == ["p", "r"]


def test_no_waits_is_an_empty_chain():
    assert bench.longest_chain([], lambda name: set()) == []


def test_a_cycle_is_an_error():
    edges = {"a": {"b"}, "b": {"a"}}
    with pytest.raises(ValueError, match="cycle"):
        bench.longest_chain(["a", "b"], lambda name: edges[name])


# --- The script end to end ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def json_report() -> dict:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = bench.main(["--json"])
    assert code == 0
    return json.loads(out.getvalue())


def test_json_has_the_figures(json_report):
    assert set(json_report) == {"versions", "stale_facts", "modes", "vm", "seldon"}
    assert json_report["vm"]["machine_type"] == "e2-standard-2"
    assert set(json_report["vm"]["modes"]["knative"]) == {"capacity", "allocatable", "k3s_own", "platform", "model", "headroom"}
    assert set(json_report["modes"]) == {"knative", "standard"}
    for mode in json_report["modes"].values():
        assert {
            "workloads", "transient", "components", "total", "chart_defaults_total", "model", "total_with_model",
            "chain", "chain_with_model", "waits", "left_out_of_chain", "targets",
        } <= set(mode)  # fmt: skip
        sums = {"cpu_millicores", "vcpu", "memory_bytes", "memory_mib", "memory_gib"}
        assert set(mode["total"]) == set(mode["total_with_model"]) == set(mode["model"]["total"]) == sums
        assert set(mode["targets"]) == {"cpu", "memory", "chain"}
        for row in [*mode["workloads"], *mode["model"]["workloads"]]:
            assert {
                "component", "workload", "container", "values_path", "chart_default", "effective", "own_manifest",
            } <= set(row)  # fmt: skip
            if row["own_manifest"] is None:
                assert row["chart_default_source"].count("@") == 1
            else:
                assert row["chart_default"] is None and row["chart_default_source"] is None


def test_json_has_the_store_and_the_sample_model(json_report):
    schema = config_schema()
    for mode in json_report["modes"].values():
        (store,) = [r for r in mode["workloads"] if r["component"] == "store"]
        assert (store["workload"], store["container"]) == ("minio", "minio")
        assert store["own_manifest"] == "components/storage/minio.py"
        assert (store["effective"]["cpu"], store["effective"]["memory"]) == (
            minio.SERVER_RESOURCES["requests"]["cpu"],
            minio.SERVER_RESOURCES["requests"]["memory"],
        )
        assert "store" in mode["components"]
        (predictor,) = mode["model"]["workloads"]
        assert (predictor["component"], predictor["workload"], predictor["container"]) == (
            "model",
            f"{schema['modelName'].default}-predictor",
            "kserve-container",
        )
        assert (predictor["effective"]["cpu"], predictor["effective"]["memory"]) == (
            schema["modelCpuRequest"].default,
            schema["modelMemoryRequest"].default,
        )
        assert "model" not in mode["components"]


def test_json_targets_pass_on_the_platform_totals(json_report):
    for mode in json_report["modes"].values():
        targets = mode["targets"]
        assert {t["result"] for t in targets.values()} == {"PASS"}
        assert targets["cpu"]["value_millicores"] == mode["total"]["cpu_millicores"]
        assert targets["memory"]["value_bytes"] == mode["total"]["memory_bytes"]


def test_json_chains_as_the_program_builds_them(json_report):
    knative_chain = json_report["modes"]["knative"]["chain"]
    standard_chain = json_report["modes"]["standard"]["chain"]
    assert knative_chain["length"] == 5 == len(knative_chain["chain"])
    assert standard_chain["length"] == 4 == len(standard_chain["chain"])
    assert (
        knative_chain["chain"][-3:]
        == standard_chain["chain"][-3:]
        == [
            "platform-kserve-resources",
            "platform-kserve-webhook-ready",
            "platform-kserve-runtime-configs",
        ]
    )
    assert "platform-knative-serving" in knative_chain["chain"]
    for mode in json_report["modes"].values():
        assert "cluster-cluster" in mode["left_out_of_chain"]
        assert "cluster-cluster" not in mode["waits"]


def test_json_totals_match_the_rows(json_report):
    for mode in json_report["modes"].values():
        rows = mode["workloads"]
        assert mode["total"]["cpu_millicores"] == sum(r["effective"]["cpu_millicores"] for r in rows)
        assert mode["total"]["memory_bytes"] == sum(r["effective"]["memory_bytes"] for r in rows)
        model = mode["model"]["workloads"]
        assert mode["model"]["total"]["cpu_millicores"] == sum(r["effective"]["cpu_millicores"] for r in model)
        assert mode["model"]["total"]["memory_bytes"] == sum(r["effective"]["memory_bytes"] for r in model)
        for key in ("cpu_millicores", "memory_bytes"):
            assert mode["total_with_model"][key] == mode["total"][key] + mode["model"]["total"][key]


def test_a_missed_target_is_printed_and_still_exits_zero(monkeypatch, capsys):
    fake_chain = {"platform": list("abcdefg"), "with_model": None, "waits": {}, "left_out": {}}
    monkeypatch.setattr(bench, "program_chains", lambda: {mode: fake_chain for mode in bench.MODES})
    monkeypatch.setattr(bench, "TARGET_CPU_MILLICORES", Decimal(1))
    assert bench.main([]) == 0
    text = capsys.readouterr().out
    assert "MISS" in text and "chain 7 MISS" in text
    assert "with the sample model:" in text and "store" in text


def test_vm_headroom_is_allocatable_less_k3s_platform_and_model() -> None:
    platform, model = bench.Sum(Decimal(200), Decimal(800 * 2**20)), bench.Sum(Decimal(100), Decimal(256 * 2**20))
    figures = bench.vm_headroom("e2-standard-2", platform, model)
    assert figures["allocatable"] == bench.Sum(Decimal(2000), Decimal(8 * 2**30 - 100 * 2**20))
    assert figures["headroom"] == bench.Sum(
        Decimal(2000 - 60 - 200 - 100), Decimal(8 * 2**30 - 100 * 2**20 - 1596 * 10**6 - 800 * 2**20 - 256 * 2**20)
    )


def test_the_vm_footprint_leaves_out_the_store_and_uses_the_default_machine_type() -> None:
    assert bench.GCP_DEFAULT_MACHINE_TYPE == "e2-standard-2"
    on_kind = bench.footprint(DeploymentMode.KNATIVE)["total"]
    on_vm = bench.vm_footprint(DeploymentMode.KNATIVE)["platform"]
    store = bench.Requests.of(minio.SERVER_RESOURCES)
    assert on_vm == bench.Sum(on_kind.millicores - store.millicores, on_kind.bytes - store.bytes)


def test_the_aws_default_has_the_shape_the_gcp_default_has() -> None:
    assert bench.AWS_DEFAULT_INSTANCE_TYPE == "t3.large"
    assert bench.MACHINE_SHAPES["t3.large"] == bench.MACHINE_SHAPES[bench.GCP_DEFAULT_MACHINE_TYPE]


def test_the_seldon_footprint_counts_the_operator_and_puts_the_executor_with_the_model() -> None:
    figures = bench.seldon_footprint()
    assert figures["manager"] == bench.Requests("50m", "128Mi")
    assert figures["executor"] == bench.Requests("50m", "64Mi")
    assert figures["model"] == bench.total([bench.Requests("100m", "256Mi"), bench.Requests("50m", "64Mi")])
    kserve_free = [w for w in bench.WORKLOADS if w.component in ("knative", "kserve")]
    assert kserve_free  # they exist in the kserve footprint, and none of them is counted here:
    with_everything = bench.seldon_footprint(bench.WORKLOADS)["platform"]
    without_them = bench.seldon_footprint([w for w in bench.WORKLOADS if w not in kserve_free])["platform"]
    assert with_everything == without_them
