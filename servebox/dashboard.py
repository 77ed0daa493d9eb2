"""`servebox dashboard STACK`: one self-contained HTML page of the stack's models.

Per model: its state and, when not ready, why and the fix (servebox/diagnosis.py); its endpoint
and ready request (from the `models` output: the API key as the `$SERVEBOX_API_KEY` placeholder,
never the key); its traffic split; its predict latency drawn as a chart of the histogram KServe's
server keeps (servebox/model_status.py `predict_latency`); its last log lines. Then the platform's
health. Everything comes from the same reads as `servebox status --metrics` plus one log request
per pod; the page has no script and loads nothing (inline style and SVG), every value escaped.
With --serve it is served on 127.0.0.1 and read anew at every load, the browser reloading it.
"""

from __future__ import annotations

import html
import http.server
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from servebox import model_status
from servebox.model_status import Latency, ModelState, PartHealth

REFRESH_SECONDS = 10
LOG_LINES = 20
"""Recent log lines per model on the page (each pod's last lines, prefixed)."""


@dataclass(frozen=True)
class ModelReport:
    """What the page shows of one model."""

    state: ModelState
    curl: str = ""
    latency: Mapping[str, Latency] | str = "not read"
    """The model's figures (per revision while a canary splits its traffic: `<model>@<revision>`),
    or why there are none."""
    container: str = ""
    """Whose log lines are shown: the storage initializer's when the download failed."""
    log_lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class Report:
    models: tuple[ModelReport, ...]
    platform: tuple[PartHealth, ...]
    namespace: str
    serving: str


def gather(kubeconfig: str, namespace: str, serving: str, outputs: Mapping[str, Any]) -> Report:
    """Read the page's facts from the cluster (and the stack's outputs for the ready requests)."""
    states, pods = model_status.read_cluster(kubeconfig, namespace, serving)
    published = outputs.get("models") or {}
    reports = []
    for state in states:
        own = pods.get(state.name) or []
        latency = model_status.model_latency(kubeconfig, namespace, serving, state, own)
        container = model_status.default_container(own, serving, state.name) if own else ""
        lines = model_status.logs(kubeconfig, namespace, own, container, since_seconds=None, tail=LOG_LINES) if own else []
        reports.append(ModelReport(
            state=state,
            curl=str((published.get(state.name) or {}).get("curl") or ""),
            latency=latency,
            container=container,
            log_lines=tuple(lines[-LOG_LINES:]),
        ))
    return Report(tuple(reports), tuple(model_status.platform_health(kubeconfig, serving)), namespace, serving)


_STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem; color: #222; }
section.model { border: 1px solid #ccc; border-radius: 6px; padding: 1rem; margin-bottom: 1.5rem; }
h2 { margin-top: 0; }
.ready { color: #185; font-weight: bold; }
.not-ready { color: #a11; font-weight: bold; }
pre { background: #f4f4f4; padding: .5rem; overflow-x: auto; white-space: pre-wrap; word-break: break-all; }
table { border-collapse: collapse; }
th, td { text-align: left; padding: .2rem .8rem .2rem 0; vertical-align: top; }
svg text { font-size: 11px; fill: #444; }
"""


def render(report: Report, *, stack: str, refresh_seconds: int | None = None) -> str:
    """The page: self-contained, no script, every value escaped."""
    refresh = f'<meta http-equiv="refresh" content="{int(refresh_seconds)}">' if refresh_seconds else ""
    sections = "\n".join(_model_section(model) for model in report.models) or "<p>No models in the stack's namespace.</p>"
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8">{refresh}<title>servebox {_e(stack)}: models</title><style>{_STYLE}</style></head>
<body>
<h1>servebox stack {_e(stack)}</h1>
<p>Models in namespace <code>{_e(report.namespace)}</code>, served by {_e(report.serving)}.
Requests that need the stack's API key read it from <code>$SERVEBOX_API_KEY</code>.</p>
{sections}
<h2>Platform</h2>
{_platform(report.platform)}
</body>
</html>
"""


def _e(value: object) -> str:
    return html.escape(str(value))


def _model_section(model: ModelReport) -> str:
    state = model.state
    verdict = (
        '<span class="ready">ready</span>' if state.ready
        else f'<span class="not-ready">not ready</span>: {_e(state.reason)}. <strong>Fix:</strong> {_e(state.fix)}'
    )
    facts = [
        ("state", verdict),
        ("endpoint", f"<code>{_e(state.endpoint or '(no URL yet)')}</code>"),
        ("runtime", _e(state.runtime)),
        ("image", f"<code>{_e(state.image or '(no pod yet)')}</code>"),
        ("pods ready", _e(state.replicas)),
        ("scale", _e(state.scale)),
        ("last change", _e(state.changed or "-")),
    ]
    rows = "".join(f"<tr><th>{name}</th><td>{value}</td></tr>" for name, value in facts)
    traffic = ""
    if state.traffic:
        cells = "".join(
            f'<tr data-revision="{_e(t.revision)}"><td>{_e(t.revision)}</td><td>{_e(t.tag)}</td><td>{t.percent}%</td></tr>'
            for t in state.traffic
        )
        traffic = f"<h3>Traffic</h3><table class=\"traffic\"><tr><th>revision</th><th>tag</th><th>share</th></tr>{cells}</table>"
    curl = f"<h3>Ready request</h3><pre class=\"curl\">{_e(model.curl)}</pre>" if model.curl else ""
    logs = ""
    if model.container:
        logs = f"<h3>Recent log lines ({_e(model.container)})</h3><pre class=\"logs\">{_e(chr(10).join(model.log_lines) or '(none)')}</pre>"
    return f"""<section class="model" data-model="{_e(state.name)}" data-ready="{str(state.ready).lower()}">
<h2>{_e(state.name)}</h2>
<table class="facts">{rows}</table>
{traffic}
{curl}
<h3>Predict latency</h3>
{_latency(model.latency)}
{logs}
</section>"""


def _latency(latency: Mapping[str, Latency] | str) -> str:
    if isinstance(latency, str):
        return f'<p class="latency">{_e(latency)}</p>'
    if len(latency) == 1:
        return _one_latency(next(iter(latency.values())))
    # A canary: each version's own figures and chart, under its revision's name.
    return "".join(
        f'<div class="revision-latency" data-revision="{_e(label.split("@", 1)[-1])}"><h4>{_e(label)}</h4>{_one_latency(figures)}</div>'
        for label, figures in latency.items()
    )


def _one_latency(latency: Latency) -> str:
    figures = " · ".join(
        f"{name} {value} ms" for name, value in (("p50", latency.p50_ms), ("p95", latency.p95_ms), ("p99", latency.p99_ms))
        if value is not None
    )
    summary = f'<p class="latency">{latency.requests} requests since the servers started{": " + figures if figures else ""}</p>'
    return summary + histogram_svg(latency.buckets)


def histogram_svg(buckets: Sequence[tuple[float, float]], width: int = 520, height: int = 160) -> str:
    """The predict latency histogram as bars, one per bucket (counts per bucket, not cumulative)."""
    bars = []
    below = 0.0
    for bound, cumulative in buckets:
        bars.append((bound, max(0.0, cumulative - below)))
        below = cumulative
    # Empty buckets far from the requests say nothing: keep the span that holds them, and one
    # bucket on either side for scale.
    filled = [index for index, (_, count) in enumerate(bars) if count > 0]
    if not filled:
        return '<p class="chart-empty">No predictions yet: the chart fills in as requests come.</p>'
    bars = bars[max(0, filled[0] - 1):filled[-1] + 2]
    tallest = max(count for _, count in bars)
    slot = min(width / len(bars), 64.0)
    plot = height - 30
    shapes = []
    for index, (bound, count) in enumerate(bars):
        bar = plot * count / tallest
        x = index * slot
        label = "+Inf" if bound == float("inf") else f"{bound * 1000:g}"
        shapes.append(
            f'<rect class="bar" data-le="{_e(label)}" data-count="{count:g}" x="{x + 2:.1f}" y="{plot - bar + 10:.1f}" '
            f'width="{max(slot - 6, 1):.1f}" height="{bar:.1f}" fill="#3a7bd5"><title>≤ {_e(label)} ms: {count:g}</title></rect>'
            f'<text x="{x + slot / 2:.1f}" y="{height - 4}" text-anchor="middle">{_e(label)}</text>'
        )
    return (f'<svg class="histogram" role="img" aria-label="predict latency histogram, ms" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}">{"".join(shapes)}</svg>')


def _platform(parts: Sequence[PartHealth]) -> str:
    rows = "".join(
        f'<tr data-namespace="{_e(p.namespace)}"><td>{_e(p.namespace)}</td><td>{p.ready}/{p.total}</td>'
        f'<td>{_e(", ".join(p.not_ready))}</td></tr>'
        for p in parts
    )
    return f"<table class=\"platform\"><tr><th>namespace</th><th>deployments ready</th><th>not available</th></tr>{rows}</table>"


def serve_page(
    page: Callable[[], str], port: int, announce: Callable[[str], None], stop: threading.Event | None = None
) -> None:
    """Serve `page()` at http://127.0.0.1:PORT/ (0: a free port) until Ctrl-C (or `stop`); each
    load reads anew."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            if self.path not in ("/", "/index.html"):
                self.send_error(404)
                return
            try:
                body, status = page().encode("utf-8"), 200
            except Exception as error:  # shown on the page, the server keeps running
                body, status = f"<!DOCTYPE html><p>servebox dashboard: {html.escape(str(error))}</p>".encode(), 503
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    announce(f"http://127.0.0.1:{server.server_address[1]}/")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        while not (stop is not None and stop.is_set()):
            thread.join(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
