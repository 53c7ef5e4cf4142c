"""Every way of failing to reach or talk to Datadog ends in exit 3 and one or two lines naming the host and the
cause (and the option to change, where one helps), with no key printed."""

import contextlib
import socket
import socketserver
import struct
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from zoneinfo import ZoneInfo

import pytest
import urllib3.exceptions
from agent_standin import free_ports
from datadog_api_client.exceptions import ApiException
from my_metric_provisioning import provision
from urllib3.exceptions import MaxRetryError, NewConnectionError

from .common import assert_no_key, cli
from .fake_datadog import FakeDatadog, LocalServer

pytestmark = pytest.mark.usefixtures("fake_keys")

NO_RETRY = ["--max-retries", "0", "--retry-backoff", "0", "--deadline", "60"]  # the deadline: no test hangs


def run_command(*argv):
    result = subprocess.run([sys.executable, "-m", "my_metric_provisioning", *argv], capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


class SilentServer(socketserver.ThreadingTCPServer):
    """Accepts connections and never answers: the hang the timeouts exist for. With `end`, it reads the request (or
    the TLS ClientHello), then ends the connection without answering: "reset" (a TCP reset) or "close"."""

    daemon_threads = True

    class Handler(socketserver.BaseRequestHandler):
        def handle(self):
            while self.request.recv(65536) and not self.server.end:
                pass
            if self.server.end == "reset":  # SO_LINGER 0: closing sends a TCP reset
                self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.server.client_left.set()

    def __init__(self, end=None):
        self.end, self.client_left = end, threading.Event()
        super().__init__(("127.0.0.1", 0), self.Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class AnswerServer(LocalServer):
    """Answers every request with the same status, headers and body; `reason` replaces the status line's phrase."""

    def __init__(self, status, body=b"", headers=(), reason=None):
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                self.send_response(status, reason)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        super().__init__(Handler)


@contextlib.contextmanager
def url_of(server, scheme="http"):
    with server as running:
        yield running.url.replace("http://", f"{scheme}://")


@contextlib.contextmanager
def nothing_listening():
    [port] = free_ports()
    yield f"http://127.0.0.1:{port}"


def assert_short_failure(code, out, url, fake_keys, *expected):
    assert code == 3, out
    failure = out.split(" are valid.\n", 1)[-1]  # what follows the offline validation's one OK line
    assert failure.startswith("error: ") and len(failure.strip().splitlines()) <= 2, out
    host = url.split("://")[-1]
    assert host in failure and "Traceback" not in out
    assert all(text.lower() in failure.lower() for text in expected), out
    assert_no_key(out, fake_keys)


HTML = [("Content-Type", "text/html")]
JSON = [("Content-Type", "application/json")]
FAILURES = {  # what answers, options, what the failure names besides the host and the call
    "read timeout": (lambda: url_of(SilentServer()), ["--read-timeout", "0.2"], ["read timeout", "0.2 s"]),
    "refused": (lambda: nothing_listening(), [], ["refused", "--api-url"]),
    "unresolvable": (lambda: contextlib.nullcontext("https://api.datadoghq.invalid"), [], ["resolve", "--site"]),
    "reset": (lambda: url_of(SilentServer(end="reset")), [], ["reset", "re-run"]),
    "closed": (lambda: url_of(SilentServer(end="close")), [], ["closed", "re-run"]),
    "https to plain http": (lambda: url_of(FakeDatadog(), "https"), [], ["TLS", "http://"]),
    "TLS cut short": (lambda: url_of(SilentServer(end="close"), "https"), [], ["TLS", "--api-url"]),
    "HTML 200": (lambda: url_of(AnswerServer(200, b"<html></html>", HTML)), [], ["JSON", "--api-url"]),
    "HTML 502": (lambda: url_of(AnswerServer(502, b"<html></html>", [("content-type", "text/html")])), [], ["502"]),
    "page without type or reason": (lambda: url_of(AnswerServer(503, b"<p>down</p>", reason="")), [], ["503"]),
    "4xx with errors": (
        lambda: url_of(AnswerServer(400, b'{"errors": ["Invalid query", "Unknown tag\\n  team"]}', JSON)),
        [],
        ["400", "Invalid query; Unknown tag team"],
    ),
    "4xx not JSON": (lambda: url_of(AnswerServer(400, b"Bad Request", JSON, reason="")), [], ["400"]),
    "undecodable": (
        lambda: url_of(AnswerServer(200, b"not gzip", [*JSON, ("Content-Encoding", "gzip")])),
        [],
        ["DecodeError"],
    ),
}


@pytest.mark.parametrize("case", FAILURES)
def test_a_network_failure_names_the_host_and_the_cause(fake_keys, case):
    server, options, expected = FAILURES[case]
    with server() as url:
        code, out = cli("apply", "--notify", "@ops@example.com", "--api-url", url, *NO_RETRY, *options)
    assert_short_failure(code, out, url, fake_keys, "list the monitor", *expected)


@pytest.mark.parametrize(
    "failure, expected",
    [
        # OpenSSL 3.2 and later say "record layer failure" where they said WRONG_VERSION_NUMBER (urllib3 #3271)
        (urllib3.exceptions.SSLError("[SSL] record layer failure (_ssl.c:1000)"), "http://"),
        # a name that resolves to no address: urllib3's error has no cause with an errno or strerror
        (MaxRetryError(None, "/api/v1/monitor", NewConnectionError(None, "no address")), "network error"),
        (urllib3.exceptions.ConnectTimeoutError(None, "connect timed out"), "--connect-timeout"),
        # datadog_api_client/rest.py reports a TLS failure it does not retry as an ApiException of status 0
        (ApiException(status=0, reason="SSLError\n[SSL: CERTIFICATE_VERIFY_FAILED] self-signed (_ssl.c:1)"), "trusted"),
        (ApiException(status=0, reason="SSLError\n[SSL: TLSV1_ALERT_PROTOCOL_VERSION] (_ssl.c:1)"), "TLS"),
    ],
    ids=["openssl 3.2 words", "no system reason", "connect timeout", "client's untrusted", "client's other TLS"],
)
def test_failures_only_a_real_network_makes_are_named_too(failure, expected):
    settings = provision.Settings(notify="@a", timezone=ZoneInfo("UTC"), api_url="https://127.0.0.1:8443")

    def failing():
        raise failure

    with pytest.raises(provision.ProvisioningError) as error:
        provision.Provisioner(settings, log=lambda _: None).call("monitor", "list", failing)
    assert "127.0.0.1:8443" in str(error.value) and expected in str(error.value)
    assert error.value.__cause__ is None and error.value.__suppress_context__


@pytest.mark.parametrize(
    "body, said",
    [(b'{"errors": ["x"]}', "x"), (b'{"errors": ["' + b"x" * 400 + b'"]}', "x" * 297 + "...")]
    + [(body, "") for body in (b'{"errors": "x"}', b'["x"]', b"x", None)]
    + [({"errors": ["decoded by the client"]}, "decoded by the client")],
)
def test_the_servers_errors_are_shown_only_when_it_sent_some(body, said):
    error = ApiException(status=400, reason="Bad Request")
    error.body = body
    assert provision.server_errors(error) == said


@pytest.mark.parametrize("command, first_call", [("apply", "list the monitor"), ("snapshot", "take the snapshot")])
def test_deadline_bounds_the_whole_command_retries_included(fake_keys, command, first_call):
    with SilentServer() as server:
        code, out = cli(
            command, "--notify", "@ops@example.com", "--api-url", server.url,
            "--max-retries", "5", "--retry-backoff", "0", "--read-timeout", "60", "--deadline", "0.5",
        )  # fmt: skip
    assert_short_failure(code, out, server.url, fake_keys, "deadline", "0.5 s", first_call)


RATE_LIMITED_FOR_600_S = (429, b'{"errors": ["Rate limit exceeded"]}', [*JSON, ("X-RateLimit-Reset", "600")])


@pytest.mark.parametrize("run", [cli, run_command], ids=["in process", "real command"])
def test_the_command_ends_at_its_deadline_while_the_client_waits_to_retry(fake_keys, run):
    # Rate limited until the limit resets in 600 s: the client sleeps inside the request, where no timeout reaches;
    # the command gives up at its deadline, and the real one exits without waiting for that thread.
    with AnswerServer(*RATE_LIMITED_FOR_600_S) as server:
        code, out = run(
            "destroy", "--api-url", server.url, "--max-retries", "1", "--retry-backoff", "0", "--deadline", "1"
        )
    assert_short_failure(code, out, server.url, fake_keys, "deadline", "1 s")


def test_no_attempt_outlives_the_deadline(fake_keys):
    # The read timeout alone would keep the connection waiting for 600 s; each attempt is cut at the deadline.
    with SilentServer() as server:
        argv = ["destroy", "--api-url", server.url, *NO_RETRY, "--read-timeout", "600", "--deadline", "1"]
        code, out = cli(*argv)
        assert_short_failure(code, out, server.url, fake_keys, "deadline", "1 s")
        assert server.client_left.wait(60)  # the client ended the connection about at the deadline
