"""Every way of failing to reach or talk to Datadog ends in one or two lines naming the host, exit 3, no key."""

import contextlib
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler

import pytest
from common import assert_no_key, cli
from fake_datadog import FakeDatadog, LocalServer

pytestmark = pytest.mark.usefixtures("fake_keys")

NO_RETRY = ["--max-retries", "0", "--retry-backoff", "0"]


def apply(url, *extra):
    return returned(cli, "apply", "--notify", "@ops@example.com", "--api-url", url, *NO_RETRY, *extra)


def returned(function, *args):
    """Call `function` in a thread so that a hang fails the test instead of stalling the run."""
    result = []
    worker = threading.Thread(target=lambda: result.append(function(*args)), daemon=True)
    worker.start()
    worker.join(120)
    assert result, f"{function.__name__}{args} did not return"
    return result[0]


class SilentServer:
    """Accepts connections and never answers: the hang the timeouts exist for."""

    def __init__(self, reset=False):
        self.reset = reset
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.connections = []
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:  # the listening socket was shut down: the test is over
                return
            with self.lock:
                self.connections.append(connection)
            if self.reset:
                with contextlib.suppress(OSError):  # the test may end (and close it) meanwhile
                    connection.recv(65536)
                    # SO_LINGER 0: close() sends a TCP reset instead of a clean end of stream.
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    connection.close()

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        # shutdown() wakes the accept() that close() alone would leave blocked; every accepted socket is closed.
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join()
        with self.lock:
            for connection in self.connections:
                connection.close()


class HtmlServer(LocalServer):
    """Answers every request with an HTML page, as a proxy, a captive portal or a load balancer does."""

    def __init__(self, status):
        page = b"<html><body><h1>Bad Gateway</h1></body></html>"

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _serve(self):
                self.send_response(status)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        super().__init__(Handler)


class SelfSignedTlsServer(HtmlServer):
    def __init__(self, tmp_path):
        super().__init__(200)
        key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1"]
            + ["-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.url = self.url.replace("http://", "https://")


def closed_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return sock.getsockname()[1]


def assert_short_failure(code, out, host, fake_keys, *expected):
    assert code == 3, out
    assert "Traceback" not in out
    failure = out.split(" are valid.\n", 1)[-1]  # what follows the offline validation's one OK line
    assert failure.startswith("error: ") and len(failure.strip().splitlines()) <= 2, out
    assert host in failure
    for text in expected:
        assert text in out
    assert_no_key(out, fake_keys)


def test_read_timeout_names_the_host_and_timeout(fake_keys):
    with SilentServer() as server:
        code, out = apply(server.url, "--read-timeout", "0.2")
    host = server.url.removeprefix("http://")
    assert_short_failure(code, out, host, fake_keys, "read timeout of 0.2 s", "--read-timeout")


@pytest.mark.parametrize("command, first_call", [("apply", "list the monitor"), ("snapshot", "take the snapshot")])
def test_deadline_bounds_the_whole_command_retries_included(fake_keys, command, first_call):
    with SilentServer() as server:
        code, out = returned(
            cli, command, "--notify", "@ops@example.com", "--api-url", server.url,
            "--max-retries", "5", "--retry-backoff", "0", "--read-timeout", "60", "--deadline", "0.5",
        )  # fmt: skip
    host = server.url.removeprefix("http://")
    assert_short_failure(code, out, host, fake_keys, "deadline of 0.5 s", first_call)


def test_connection_refused(fake_keys):
    port = closed_port()
    code, out = apply(f"http://127.0.0.1:{port}")
    assert_short_failure(code, out, f"127.0.0.1:{port}", fake_keys, "refused the connection")


def test_unresolvable_host(fake_keys):
    code, out = apply("https://api.datadoghq.invalid")
    assert_short_failure(code, out, "api.datadoghq.invalid", fake_keys, "cannot resolve the host name")


def test_connection_reset(fake_keys):
    with SilentServer(reset=True) as server:
        code, out = apply(server.url)
    assert_short_failure(code, out, server.url.removeprefix("http://"), fake_keys, "reset the connection")


def test_https_url_on_a_plain_http_server(fake_keys):
    with FakeDatadog() as fake:
        url = fake.url.replace("http://", "https://")
        code, out = apply(url)
    assert_short_failure(code, out, url.removeprefix("https://"), fake_keys, "TLS handshake", "does not speak TLS")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_self_signed_tls_server(fake_keys, tmp_path):
    with SelfSignedTlsServer(tmp_path) as server:
        code, out = apply(server.url)
    assert_short_failure(code, out, server.url.removeprefix("https://"), fake_keys, "TLS handshake", "not trusted")


@pytest.mark.parametrize(
    "status, expected", [(200, "but not with the Datadog API's JSON"), (502, "text/html page instead of the Datadog")]
)
def test_html_answer_instead_of_json(fake_keys, status, expected):
    with HtmlServer(status) as server:
        code, out = apply(server.url)
    assert_short_failure(code, out, server.url.removeprefix("http://"), fake_keys, expected, "--api-url")


def run_command(*argv):
    result = subprocess.run(
        [sys.executable, "-m", "my_metric_provisioning", *argv], capture_output=True, text=True, timeout=120
    )
    return result.returncode, result.stdout + result.stderr


def test_exit_code_and_output_of_the_real_command(fake_keys):
    port = closed_port()
    code, out = run_command("apply", "--notify", "@ops@example.com", "--api-url", f"http://127.0.0.1:{port}", *NO_RETRY)
    assert_short_failure(code, out, f"127.0.0.1:{port}", fake_keys, "refused the connection")


def test_the_real_command_exits_at_its_deadline(fake_keys):
    with SilentServer() as server:
        code, out = run_command(
            "destroy", "--api-url", server.url, "--read-timeout", "600", "--deadline", "1", *NO_RETRY
        )
    assert_short_failure(code, out, server.url.removeprefix("http://"), fake_keys, "deadline of 1 s")
