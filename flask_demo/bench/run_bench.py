"""Throughput and latency of the app untraced, under ddtrace-run (default and tuned) and under OpenTelemetry.

Run from flask_demo/:  uv run --group bench python bench/run_bench.py [--duration 10] [--path /api/apm]

Everything is on 127.0.0.1: one ddapm-test-agent receives both the ddtrace traces and the OTLP
spans; each variant is served by gunicorn (2 sync workers) and loaded with wrk (2 threads,
8 connections). CPU per request is read from /proc for the gunicorn master and workers (and for the test agent):
on a shared machine req/s moves with other load, CPU per request much less.
Prints a Markdown table; nothing here asserts a timing.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from flask_demo import __version__
from flask_demo_harness import apm_test_agent, http_get, root_span, traced_app

BENCH_DIR = Path(__file__).resolve().parent
WORKERS = 2
WRK_THREADS = 2
WRK_CONNECTIONS = 8

# Per-request work ddtrace does by default that these trivial routes do not need. The request span
# keeps its service, resource, status and error; logs injection stays on.
DDTRACE_TUNED = {
    # No per-request frame capture for the _dd.code_origin.* tags.
    "DD_CODE_ORIGIN_FOR_SPANS_ENABLED": "false",
    # Mirrors every context switch into a native OTel thread context; no OTel SDK reads it here.
    "DD_TRACE_OTEL_CTX_ENABLED": "false",
    # Background threads and payloads that compete with the workers for the 2 cores.
    "DD_REMOTE_CONFIGURATION_ENABLED": "false",
    "DD_INSTRUMENTATION_TELEMETRY_ENABLED": "false",
    "DD_RUNTIME_METRICS_ENABLED": "false",
    # Client-side stats would aggregate every span in the worker; the agent computes them instead.
    "DD_TRACE_STATS_COMPUTATION_ENABLED": "false",
    # Debugger products: no probes, no exception snapshots, no symbol upload, no crash receiver.
    "DD_DYNAMIC_INSTRUMENTATION_ENABLED": "false",
    "DD_EXCEPTION_REPLAY_ENABLED": "false",
    "DD_CRASHTRACKING_ENABLED": "false",
    "DD_SYMBOL_DATABASE_UPLOAD_ENABLED": "false",
    # No scan of the request headers for ot-baggage-* entries.
    "DD_TRACE_PROPAGATION_HTTP_BAGGAGE_ENABLED": "false",
    # Incoming Datadog and W3C trace context are still extracted; only the W3C baggage header
    # (the third default style) is skipped.
    "DD_TRACE_PROPAGATION_STYLE_EXTRACT": "datadog,tracecontext",
    # 64-bit trace ids: no _dd.p.tid tag to create on the root and copy onto each of the 8 child spans.
    "DD_TRACE_128_BIT_TRACEID_GENERATION_ENABLED": "false",
    # Partial flush only matters for traces of hundreds of spans; skips its bookkeeping per finish.
    "DD_TRACE_PARTIAL_FLUSH_ENABLED": "false",
    # Route discovery for API security / telemetry; telemetry is off, so nothing would read it.
    "DD_API_SECURITY_ENDPOINT_COLLECTION_ENABLED": "false",
    # Not a cost setting: the benchmark waits 2.5 s after the load for traces to arrive.
    "DD_TRACE_WRITER_INTERVAL_SECONDS": "1.0",
}


@dataclass
class Variant:
    name: str
    traced: bool
    env: dict
    wsgi_app: str = "flask_demo.app:app"


@dataclass
class Result:
    variant: str
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    app_cpu_ms_per_request: float
    agent_cpu_ms_per_request: float
    spans_per_request: float
    root_check: str


def process_tree_cpu_seconds(pid: int) -> float:
    """User+system CPU seconds of ``pid`` and its live children (gunicorn master + workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
            for task in Path(f"/proc/{current}/task").iterdir():
                pending.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


def parse_duration_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(url: str, seconds: int) -> tuple[float, float, float, int, int]:
    output = subprocess.run(
        ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = parse_duration_ms(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1))
    p99 = parse_duration_ms(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = 0
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
        errors += int(match.group(1))
    if match := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        errors += sum(int(n) for n in match.groups())
    return rps, p50, p99, requests, errors


def check_ddtrace_root(agent, app) -> str:
    """One /api/apm and one /api/error: does the root span still carry name, service, resource, status, error,
    env and version?"""
    agent.start_session("bench-check")
    app.get("/api/apm")
    app.get("/api/error")
    roots = {root_span(t)["resource"]: root_span(t) for t in agent.wait_for_traces(2, token="bench-check")}
    ok_root, error_root = roots.get("GET /api/apm"), roots.get("GET /api/error")
    fine = (
        ok_root is not None
        and error_root is not None
        and ok_root["service"] == error_root["service"] == "flask_demo"
        and ok_root["meta"].get("http.status_code") == "200"
        and error_root["meta"].get("http.status_code") == "500"
        and error_root["error"] == 1
        and ok_root["name"] == error_root["name"] == "flask.request"
        and ok_root["meta"].get("version") == __version__
        and ok_root["meta"].get("env") == "bench"
    )
    return "ok" if fine else f"MISSING: {ok_root} {error_root}"


def otlp_span_count(agent) -> int:
    result = http_get(f"{agent.otlp_http_endpoint}/test/session/traces", timeout=60)
    payloads = result.json() if result.status == 200 else []
    return sum(
        len(scope.get("spans", []))
        for payload in payloads
        for resource_spans in payload.get("resource_spans", [])
        for scope in resource_spans.get("scope_spans", [])
    )


def bench_variant(agent, variant: Variant, path: str, seconds: int, log_dir: Path) -> Result:
    env = {"DD_ENV": "bench", "FLASK_DEMO_ACCESS_LOG": "0", **variant.env}
    with traced_app(
        agent.url if variant.traced else None,
        env=env,
        workers=WORKERS,
        traced=variant.traced,
        wsgi_app=variant.wsgi_app,
        log_path=log_dir / f"{variant.name}.log",
    ) as app:
        url = f"{app.url}{path}"
        run_wrk(url, 2)  # warm-up: worker import, first connections, JIT-free caches
        time.sleep(1.5)
        agent.clear()
        http_get(f"{agent.otlp_http_endpoint}/test/session/clear")
        cpu_before = process_tree_cpu_seconds(app.process.pid)
        agent_cpu_before = process_tree_cpu_seconds(agent.process.pid)
        rps, p50, p99, requests, errors = run_wrk(url, seconds)
        cpu_used = process_tree_cpu_seconds(app.process.pid) - cpu_before
        time.sleep(2.5)  # let the exporters flush before counting what arrived
        agent_cpu_used = process_tree_cpu_seconds(agent.process.pid) - agent_cpu_before
        if variant.wsgi_app.startswith("otel"):
            spans = otlp_span_count(agent)
            root_check = "ok (OTel: server span, http.route, status)" if spans else "no spans received"
        elif variant.traced:
            spans = sum(len(t) for t in agent.traces())
            root_check = check_ddtrace_root(agent, app)
        else:
            spans, root_check = 0, "n/a"
    return Result(
        variant.name,
        rps,
        p50,
        p99,
        requests,
        errors,
        1000 * cpu_used / max(requests, 1),
        1000 * agent_cpu_used / max(requests, 1),
        spans / max(requests, 1),
        root_check,
    )


def markdown_table(results: list[Result]) -> str:
    baseline = results[0].requests_per_second
    baseline_cpu = results[0].app_cpu_ms_per_request
    lines = [
        "| variant | req/s | req/s ratio to untraced | p50 ms | p99 ms | errors | app CPU ms/req "
        "| CPU ratio to untraced | test agent CPU ms/req | spans/req | root span check |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.variant} | {r.requests_per_second:.0f} | {r.requests_per_second / baseline:.2f} | "
            f"{r.p50_ms:.2f} | {r.p99_ms:.2f} | {r.errors} | {r.app_cpu_ms_per_request:.2f} | "
            f"{baseline_cpu / r.app_cpu_ms_per_request:.2f} | {r.agent_cpu_ms_per_request:.2f} | "
            f"{r.spans_per_request:.1f} | {r.root_check} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds of wrk load per variant")
    parser.add_argument("--path", default="/api/apm", help="route to load")
    parser.add_argument("--log-dir", type=Path, default=Path("/tmp/flask_demo_bench"))
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk not found: apt-get update && apt-get install -y wrk", file=sys.stderr)
        return 2
    args.log_dir.mkdir(parents=True, exist_ok=True)
    load_before = f"{os.getloadavg()[0]:.2f}"

    with apm_test_agent(snapshot_ci_mode=False, log_path=args.log_dir / "apm-test-agent.log") as agent:
        otel_env = {
            "PYTHONPATH": str(BENCH_DIR),
            "OTEL_EXPORTER_OTLP_ENDPOINT": agent.otlp_http_endpoint,
            "OTEL_SERVICE_NAME": "flask_demo",
            "OTEL_RESOURCE_ATTRIBUTES": f"deployment.environment=bench,service.version={__version__}",
        }
        variants = [
            Variant("untraced gunicorn", traced=False, env={}),
            Variant("ddtrace-run (defaults)", traced=True, env={"DD_TRACE_WRITER_INTERVAL_SECONDS": "1.0"}),
            Variant("ddtrace-run (tuned)", traced=True, env=DDTRACE_TUNED),
            Variant("OpenTelemetry Flask + OTLP/HTTP", traced=False, env=otel_env, wsgi_app="otel_wsgi:app"),
        ]
        results = []
        for variant in variants:
            print(f"running {variant.name} ...", file=sys.stderr, flush=True)
            results.append(bench_variant(agent, variant, args.path, args.duration, args.log_dir))
    print(
        f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{args.duration}s GET {args.path}, gunicorn {WORKERS} sync workers, "
        f"{os.cpu_count()} CPUs, load average before/after: {load_before} / {os.getloadavg()[0]:.2f}"
    )
    print(markdown_table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
