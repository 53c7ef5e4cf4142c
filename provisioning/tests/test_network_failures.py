"""Every way of failing to reach or talk to Datadog ends in one or two lines naming the host, exit 3, no key."""

import contextlib
import functools
import shutil
import socket
import ssl
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from zoneinfo import ZoneInfo

import pytest
import urllib3.connection
import urllib3.exceptions
from agent_standin import free_ports
from datadog_api_client.exceptions import ApiException
from my_metric_provisioning import provision
from my_metric_provisioning.settings import Settings

from .common import assert_no_key, cli
from .fake_datadog import FakeDatadog, LocalServer

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
    """Accepts connections and never answers: the hang the timeouts exist for.

    With `end`, it reads the request (or the TLS ClientHello) and then ends the connection without answering:
    "reset" sends a TCP reset, "close" a clean end of stream.
    """

    def __init__(self, end=None):
        self.end = end
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
            if self.end:
                with contextlib.suppress(OSError):  # the test may end (and close it) meanwhile
                    connection.recv(65536)
                    if self.end == "reset":
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


class HtmlServer(AnswerServer):
    """Answers every request with an HTML page, as a proxy, a captive portal or a load balancer does."""

    def __init__(self, status, content_type_header="Content-Type", reason=None):
        page = b"<html><body><h1>Bad Gateway</h1></body></html>"
        super().__init__(status, page, [(content_type_header, "text/html")], reason)


class JsonServer(AnswerServer):
    def __init__(self, status, body: bytes, reason=None):
        super().__init__(status, body, [("Content-Type", "application/json")], reason)


class FullBacklogServer:
    """A listening socket whose queue of connections is full, so that the kernel drops every further attempt
    to connect (no answer at all): what a firewall dropping packets looks like to the client."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.waiting = []

    def __enter__(self):
        while True:
            connection = socket.socket()
            connection.settimeout(0.5)
            self.waiting.append(connection)
            try:
                connection.connect(self.sock.getsockname())
            except TimeoutError:
                return self
            if len(self.waiting) > 16:
                pytest.skip("this system accepts connections beyond a full listen queue")

    def __exit__(self, *exc):
        for connection in self.waiting:
            connection.close()
        self.sock.close()


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
    assert_short_failure(code, out, host, fake_keys, "list the monitor", "read timeout of 0.2 s", "--read-timeout")


def test_connect_timeout_names_the_host_and_timeout(fake_keys):
    with FullBacklogServer() as server:
        code, out = apply(server.url, "--connect-timeout", "0.2")
    host = server.url.removeprefix("http://")
    assert_short_failure(
        code, out, host, fake_keys, "list the monitor", "connect timeout of 0.2 s", "--connect-timeout"
    )


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
    [port] = free_ports()
    code, out = apply(f"http://127.0.0.1:{port}")
    assert_short_failure(
        code, out, f"127.0.0.1:{port}", fake_keys, "list the monitor", "refused the connection", "--api-url"
    )


def test_unreachable_address_names_the_systems_reason(fake_keys):
    # A TCP connection to the broadcast address fails at once, with the system's own reason (on Linux:
    # "Network is unreachable"); the message carries that reason.
    try:
        socket.create_connection(("255.255.255.255", 9), timeout=5).close()
    except OSError as error:
        if isinstance(error, (ConnectionRefusedError, TimeoutError)) or not error.strerror:
            pytest.skip(f"this system answers a connection to the broadcast address with {error!r}")
        system_reason = error.strerror
    else:
        pytest.skip("this system connects to the broadcast address")
    code, out = apply("http://255.255.255.255:9")
    assert_short_failure(code, out, "255.255.255.255:9", fake_keys, "list the monitor", system_reason)


def test_unresolvable_host(fake_keys):
    code, out = apply("https://api.datadoghq.invalid")
    assert_short_failure(code, out, "api.datadoghq.invalid", fake_keys, "list the monitor", "cannot resolve", "--site")


@pytest.mark.parametrize("end", ["reset", "close"])
def test_connection_reset_or_closed_without_an_answer(fake_keys, end):
    with SilentServer(end=end) as server:
        code, out = apply(server.url)
    host = server.url.removeprefix("http://")
    assert_short_failure(code, out, host, fake_keys, "list the monitor", "closed or reset", "re-run")


def test_https_url_on_a_plain_http_server(fake_keys):
    with FakeDatadog() as fake:
        url = fake.url.replace("http://", "https://")
        code, out = apply(url)
    host = url.removeprefix("https://")
    assert_short_failure(code, out, host, fake_keys, "list the monitor", "TLS", "http://")


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_self_signed_tls_server(fake_keys, tmp_path):
    with SelfSignedTlsServer(tmp_path) as server:
        code, out = apply(server.url)
    host = server.url.removeprefix("https://")
    assert_short_failure(code, out, host, fake_keys, "list the monitor", "TLS", "certificate is not trusted")


def test_tls_handshake_cut_short(fake_keys):
    with SilentServer(end="close") as server:
        url = server.url.replace("http://", "https://")
        code, out = apply(url)
    host = url.removeprefix("https://")
    assert_short_failure(code, out, host, fake_keys, "list the monitor", "TLS", "--api-url")


def test_https_url_on_a_plain_http_server_with_openssl_3_2_words():
    # OpenSSL 3.2 and later no longer say WRONG_VERSION_NUMBER when a plain HTTP server answers the
    # ClientHello, but "record layer failure" (urllib3 issue 3271); this is how the client reports it then.
    reason = urllib3.exceptions.SSLError("[SSL] record layer failure (_ssl.c:1000)")
    settings = Settings(notify="@ops@example.com", timezone=ZoneInfo("Europe/Paris"))
    text = str(provision._explain_network(reason, "monitor", "list", "127.0.0.1:8443", settings))
    assert "127.0.0.1:8443" in text and "does not speak TLS" in text and "http://" in text


def test_a_connection_failure_without_a_system_reason():
    # urllib3 raises this when the name resolves to no address at all; the OSError has no errno or strerror.
    connection = urllib3.connection.HTTPConnection("api.example.test", 80)
    try:
        try:
            raise OSError("getaddrinfo returns an empty list")
        except OSError as cause:
            raise urllib3.exceptions.NewConnectionError(
                connection, f"Failed to establish a new connection: {cause}"
            ) from cause
    except urllib3.exceptions.NewConnectionError as error:
        failure = urllib3.exceptions.MaxRetryError(None, "/api/v1/monitor", error)
    settings = Settings(notify="@ops@example.com", timezone=ZoneInfo("Europe/Paris"))
    text = str(provision._explain_network(failure, "monitor", "list", "api.example.test", settings))
    assert "api.example.test" in text and "(network error)" in text


def test_html_answer_with_status_200(fake_keys):
    with HtmlServer(200) as server:
        code, out = apply(server.url)
    host = server.url.removeprefix("http://")
    assert_short_failure(code, out, host, fake_keys, "list the monitor", "JSON", "--api-url")


@pytest.mark.parametrize("header_name", ["Content-Type", "content-type", "Content-type"])
def test_html_error_page_names_its_status_and_type(fake_keys, header_name):
    # Header names are case-insensitive; proxies and web pages spell Content-Type in each of these ways.
    with HtmlServer(502, header_name) as server:
        code, out = apply(server.url)
    host = server.url.removeprefix("http://")
    assert_short_failure(code, out, host, fake_keys, "list the monitor", "HTTP 502", "text/html")


def test_error_page_without_a_type_or_reason_phrase(fake_keys):
    page = b"<html><body>upstream unavailable</body></html>"
    with AnswerServer(503, page, reason="") as server:
        code, out = apply(server.url)
    host = server.url.removeprefix("http://")
    assert_short_failure(code, out, host, fake_keys, "list the monitor", "HTTP 503", "no type")


def test_a_json_error_without_a_reason_phrase(fake_keys):
    with JsonServer(400, b'{"errors": ["Invalid query"]}', reason="") as server:
        code, out = apply(server.url)
    assert_short_failure(code, out, server.url, fake_keys, "list the monitor", "HTTP 400", "Invalid query")


@pytest.mark.parametrize(
    "body, said",
    [
        (b'{"errors": ["Invalid query", "Unknown tag\\n  team"]}', ": Invalid query; Unknown tag team"),
        (b"{}", ""),
        (b'{"errors": "Invalid query"}', ""),
        (b'"Bad Request"', ""),
        (b'["Bad Request"]', ""),
        (b"", ""),
        (b"Bad Request", ""),
    ],
    ids=["errors list", "no errors", "errors not a list", "a JSON string", "a JSON list", "empty", "not JSON"],
)
def test_a_4xx_answer_says_what_the_server_said_if_anything(fake_keys, body, said):
    with JsonServer(400, body) as server:
        code, out = apply(server.url)
    assert_short_failure(code, out, server.url, fake_keys, "list the monitor", "HTTP 400 Bad Request", said)


def test_a_body_the_client_cannot_decode(fake_keys):
    # A proxy that labels its answer gzip-compressed but sends something else: urllib3 cannot decode it.
    headers = [("Content-Type", "application/json"), ("Content-Encoding", "gzip")]
    with AnswerServer(200, b"not gzip", headers) as server:
        code, out = apply(server.url)
    host = server.url.removeprefix("http://")
    assert_short_failure(code, out, host, fake_keys, "list the monitor", "DecodeError")


def run_command(*argv):
    result = subprocess.run(
        [sys.executable, "-m", "my_metric_provisioning", *argv], capture_output=True, text=True, timeout=120
    )
    return result.returncode, result.stdout + result.stderr


def test_exit_code_and_output_of_the_real_command(fake_keys):
    [port] = free_ports()
    code, out = run_command("apply", "--notify", "@ops@example.com", "--api-url", f"http://127.0.0.1:{port}", *NO_RETRY)
    assert_short_failure(code, out, f"127.0.0.1:{port}", fake_keys, "refused the connection")


def test_the_real_command_exits_at_its_deadline(fake_keys):
    with SilentServer() as server:
        code, out = run_command(
            "destroy", "--api-url", server.url, "--read-timeout", "600", "--deadline", "1", *NO_RETRY
        )
    assert_short_failure(code, out, server.url.removeprefix("http://"), fake_keys, "deadline of 1 s")


RATE_LIMITED_FOR_600_S = (
    429,
    b'{"errors": ["Rate limit exceeded"]}',
    [("Content-Type", "application/json"), ("X-RateLimit-Reset", "600")],
)


@pytest.mark.parametrize("run", [functools.partial(returned, cli), run_command], ids=["in process", "real command"])
def test_the_command_ends_at_its_deadline_while_the_client_waits_to_retry(fake_keys, run):
    # Rate limited, to be retried when the limit resets in 600 s: the client sleeps inside the request, where no
    # timeout reaches; the command gives up at its deadline, and the real one exits without waiting for that thread.
    with AnswerServer(*RATE_LIMITED_FOR_600_S) as server:
        code, out = run(
            "destroy", "--api-url", server.url, "--max-retries", "1", "--retry-backoff", "0", "--deadline", "1"
        )
    assert_short_failure(code, out, server.url.removeprefix("http://"), fake_keys, "deadline of 1 s")


def test_no_attempt_outlives_the_deadline(fake_keys):
    # The read timeout alone would keep the connection waiting for 600 s; each attempt is cut at the deadline.
    with SilentServer() as server:
        code, out = returned(
            cli, "destroy", "--api-url", server.url, "--read-timeout", "600", "--deadline", "1", *NO_RETRY
        )
        assert_short_failure(code, out, server.url.removeprefix("http://"), fake_keys, "deadline of 1 s")
        with server.lock:
            [connection] = server.connections
        connection.settimeout(60)  # a guard against a hang: the client ends the connection about at the deadline
        while connection.recv(65536):  # the request, then the end of the stream
            pass


@pytest.mark.parametrize(
    "detail, cause",
    [
        (
            "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate (_ssl.c:1000)",
            "its certificate is not trusted (self-signed, or a TLS-inspecting proxy): check --api-url, "
            "or the proxy's CA",
        ),
        (
            "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version (_ssl.c:1000)",
            "check --api-url / --site and any TLS-inspecting proxy",
        ),
    ],
    ids=["untrusted", "other"],
)
def test_a_tls_failure_the_client_reports_with_status_0(detail, cause):
    # datadog_api_client/rest.py turns an SSLError that urllib3 raises without retrying into
    # ApiException(status=0, reason="SSLError\n<detail>"); it reads as the same TLS failure.
    settings = Settings(notify="@ops@example.com", timezone=ZoneInfo("Europe/Paris"), api_url="https://127.0.0.1:8443")
    provisioner = provision.Provisioner(settings, log=lambda _: None)

    def refused():
        raise ApiException(status=0, reason=f"SSLError\n{detail}")

    with pytest.raises(provision.ProvisioningError) as failure:
        provisioner.call("monitor", "list", refused)
    assert "127.0.0.1:8443" in str(failure.value) and cause in str(failure.value)
    assert failure.value.__cause__ is None and failure.value.__suppress_context__
