"""CPU per request of the app inside one process, to compare ddtrace settings quickly.

Run from flask_demo/:

    uv run --group bench python bench/inprocess_cost.py [--requests 2000] [--rounds 5] [--repeat 3] \
        [--variant untraced|defaults|tuned ...] [--set "DD_A=1;DD_B=2" ...]

Each variant is a fresh ``ddtrace-run python`` (plain ``python`` for the untraced one) that calls
the Flask WSGI app directly with a GET /api/apm environ: no gunicorn, no sockets. Traces go to a
sink in the parent process that answers 200 to everything (or to ``--agent-url``). The child
reports CPU seconds of the whole process (all threads, so the trace writer counts) per request,
best of ``--rounds``; ``--repeat`` interleaves the variants and keeps each one's best. ``--set``
adds a variant: the tuned settings plus the given ones. Absolute numbers are lower than under
gunicorn + wrk, but they move the same way, in a fraction of the time.
"""

import argparse
import http.server
import io
import json
import os
import subprocess
import sys
import threading
import time

from run_bench import DDTRACE_TUNED

VARIANTS = {
    "untraced": None,
    "defaults": {},
    "tuned": DDTRACE_TUNED,
}


def child(requests: int, rounds: int, path: str) -> None:
    import logging

    from flask_demo.app import app

    logging.getLogger().handlers[0].stream = io.StringIO()  # keep the log formatting, drop the output

    def environ():
        return {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "5050",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "HTTP_HOST": "127.0.0.1:5050",
            "HTTP_USER_AGENT": "wrk",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": True,
            "wsgi.run_once": False,
        }

    def start_response(status, headers, exc_info=None):
        return None

    def one():
        body = app(environ(), start_response)
        for _ in body:
            pass
        if hasattr(body, "close"):
            body.close()

    for _ in range(300):
        one()
    best = float("inf")
    for _ in range(rounds):
        logging.getLogger().handlers[0].stream.seek(0)
        logging.getLogger().handlers[0].stream.truncate()
        start = time.process_time()
        for _ in range(requests):
            one()
        best = min(best, (time.process_time() - start) / requests)
    print(json.dumps({"cpu_ms_per_request": round(best * 1000, 4)}))


class _Sink(http.server.BaseHTTPRequestHandler):
    """Stands in for the agent: reads whatever the tracer sends and answers 200 with no sample rates."""

    def _answer(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_PUT = do_POST = _answer

    def log_message(self, *args):
        pass


def start_sink() -> str:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--agent-url", help="default: a sink in this process that answers 200 to everything")
    parser.add_argument(
        "--repeat", type=int, default=1, help="run the variant list this often, interleaved; keep the best"
    )
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--path", default="/api/apm")
    parser.add_argument("--variant", action="append", help="untraced, defaults, tuned (default: all)")
    parser.add_argument("--set", action="append", default=[], help="A=1;B=2: one more variant, tuned plus these")
    args = parser.parse_args()
    if args.child:
        child(args.requests, args.rounds, args.path)
        return 0
    variants = {name: VARIANTS[name] for name in (args.variant or VARIANTS)}
    for extra in args.set:
        variants[f"tuned + {extra}"] = {**DDTRACE_TUNED, **dict(pair.split("=", 1) for pair in extra.split(";"))}
    agent_url = args.agent_url or start_sink()
    bin_dir = os.path.dirname(sys.executable)
    best: dict[str, float] = {}
    for _ in range(args.repeat):
        for name, settings in variants.items():
            best[name] = min(best.get(name, float("inf")), run_child(args, agent_url, bin_dir, settings))
            print(f"{name}: {best[name]:.3f} ms/req (best so far)", file=sys.stderr, flush=True)
    for name, value in best.items():
        print(f"| {name} | {value:.3f} |")
    return 0


def run_child(args, agent_url: str, bin_dir: str, settings) -> float:
    env = {
        **os.environ,
        "DD_SERVICE": "flask_demo",
        "DD_ENV": "bench",
        "DD_VERSION": "bench",
        "DD_TRACE_AGENT_URL": agent_url,
        **(settings or {}),
    }
    command = [sys.executable, __file__, "--child", f"--requests={args.requests}", f"--rounds={args.rounds}"]
    command.append(f"--path={args.path}")
    if settings is not None:
        command.insert(0, os.path.join(bin_dir, "ddtrace-run"))
    out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(out.stderr[-2000:])
    return json.loads(out.stdout.strip().splitlines()[-1])["cpu_ms_per_request"]


if __name__ == "__main__":
    sys.exit(main())
