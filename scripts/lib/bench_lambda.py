"""Cold starts of Lambda bootstraps behind a Lambda Runtime API emulator (for scripts/bench-lambda).

Usage: bench_lambda.py LAMBDA_DIR EVENTS_DIR RUNS NAME...

Each NAME is LAMBDA_DIR/NAME/bootstrap. A cold start is the time from starting the process to
its first reply (POST .../response or .../error) to the one event it is given. For each
function the median of RUNS starts is reported of:

- ready: start to the first `GET .../invocation/next` (what Lambda reports as Init Duration);
- reply: start to the first reply;
- in AWS: how much of that the function was waiting for AWS (moto), measured by a recording
  proxy between the function and moto: the union of the spans from each request's arrival
  (its connection's acceptance, for a connection's first) to its answer's end, within the
  cold start (a background read that overlaps the function's own
  work counts too, so this is at most what the reply waited for);
- own: reply less in AWS, what is kiln's,

with the binary's size and the ratios to kiln-bench-hello's. The functions get an installation
in moto (KILN_TEST_MOTO_URL): a state bucket, a catalog, the secrets, a cluster. Exits 1 when a
function fails to reply or replies with an error.
"""

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import boto3

REGION = "us-east-1"
WEBHOOK_SECRET = "it's a secret to everybody"  # what events/webhook/*.json are signed with
EVENTS = {
    "kiln-webhook": "webhook/ping-base64.json",
    "kiln-task-events": "task-events/running.json",
    "kiln-log-relay": "log-relay/control.json",
    "kiln-sweeper": "sweeper/schedule.json",
    "kiln-pages": "pages/badge.json",
    "kiln-bench-hello": "sweeper/schedule.json",
}


class QuietServer(ThreadingHTTPServer):
    """Says nothing of the connections a killed function leaves half open."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


class Emulator:
    """The Runtime API for one invocation: hands out `event`, records the first reply."""

    def __init__(self, event: bytes):
        self.event = event
        self.given = False
        self.polled = None
        self.reply = None
        self.replied = threading.Event()
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    self.send_error(404)
                    return
                if emulator.given:
                    emulator.replied.wait(30)
                    time.sleep(30)
                else:
                    emulator.polled = time.monotonic()
                emulator.given = True
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Lambda-Runtime-Aws-Request-Id", "00000000-0000-4000-8000-000000000001")
                deadline = int(time.time() * 1000) + 60_000
                self.send_header("Lambda-Runtime-Deadline-Ms", str(deadline))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn",
                                 "arn:aws:lambda:us-east-1:123456789012:function:kiln-bench")
                self.send_header("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000001")
                self.send_header("Content-Length", str(len(emulator.event)))
                self.end_headers()
                self.wfile.write(emulator.event)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                kind = "response" if self.path.endswith("/response") else "error"
                if emulator.reply is None:
                    emulator.reply = (time.monotonic(), kind, body)
                    emulator.replied.set()
                self.send_response(202)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class StampedSocket(socket.socket):
    """A socket that knows when it was accepted."""

    accepted = 0.0


class AcceptStampingServer(QuietServer):
    """Notes on each connection when it was accepted."""

    def get_request(self):
        sock, address = self.socket.accept()
        accepted = time.monotonic()
        stamped = StampedSocket(sock.family, sock.type, sock.proto, fileno=sock.detach())
        stamped.accepted = accepted
        return stamped, address


HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade"}


class AwsProxy:
    """Passes each request on to moto and records when it arrived and when its answer ended."""

    def __init__(self, moto: str):
        target = urlsplit(moto)
        self.spans = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # no delayed-ACK stall between headers and body

            def log_message(self, *args):
                pass

            def read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    body = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return body
                        body += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def setup(self):
                super().setup()
                self.first = True

            def parse_request(self):
                # Called as soon as the request line is in, before the headers are read; a
                # connection's first request counts from the connection's acceptance (the
                # round trip of connecting is AWS's too).
                self.arrived = time.monotonic()
                if self.first:
                    self.arrived = min(self.arrived, getattr(self.request, "accepted", self.arrived))
                    self.first = False
                return super().parse_request()

            def relay(self):
                arrived = self.arrived
                body = self.read_body()
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in HOP_BY_HOP and k.lower() != "content-length"}
                upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                upstream.connect()
                upstream.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response_only(answer.status, answer.reason)
                for k, v in answer.getheaders():
                    if k.lower() not in HOP_BY_HOP and k.lower() != "content-length":
                        self.send_header(k, v)
                length = answer.getheader("Content-Length")
                if self.command == "HEAD" and length is not None:
                    self.send_header("Content-Length", length)
                else:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                self.wfile.flush()
                upstream.close()
                with proxy.lock:
                    proxy.spans.append((arrived, time.monotonic()))

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = relay

        self.server = AcceptStampingServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def waited(self, start: float, end: float) -> float:
        """The union of the recorded spans within [start, end]; forgets them."""
        with self.lock:
            spans, self.spans = sorted(self.spans), []
        total, reach = 0.0, start
        for a, b in spans:
            a, b = max(a, reach), min(b, end)
            if b > a:
                total += b - a
                reach = b
        return total


def installation(moto: str) -> dict:
    """A state bucket with a catalog, the two secrets and a cluster in moto; the variables."""
    session = boto3.session.Session(aws_access_key_id="bench", aws_secret_access_key="bench",
                                    region_name=REGION)
    s3 = session.client("s3", endpoint_url=moto)
    bucket = f"kiln-bench-{os.getpid()}"
    s3.create_bucket(Bucket=bucket)
    catalog = ("- name: app\n  source: {type: GITHUB, location: 'https://github.com/octo/app.git'}\n"
               "  artifacts: {type: NO_ARTIFACTS}\n  kiln: {publicBuilds: true}\n")
    s3.put_object(Bucket=bucket, Key="catalog/projects.yml", Body=catalog.encode())
    sm = session.client("secretsmanager", endpoint_url=moto)
    webhook = sm.create_secret(Name=f"{bucket}/webhook", SecretString=WEBHOOK_SECRET)["ARN"]
    github = sm.create_secret(Name=f"{bucket}/github",
                              SecretString=json.dumps({"token": "ghp_benchToken"}))["ARN"]
    session.client("ecs", endpoint_url=moto).create_cluster(clusterName=bucket)
    return {
        "AWS_ENDPOINT_URL": moto, "AWS_REGION": REGION, "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench", "AWS_EC2_METADATA_DISABLED": "true",
        "KILN_STATE_BUCKET": bucket, "KILN_CATALOG": f"s3://{bucket}/catalog/projects.yml",
        "KILN_CLUSTER": bucket, "KILN_SUBNETS": "subnet-0123456789abcdef0",
        "KILN_SECURITY_GROUPS": "sg-0123456789abcdef0", "KILN_ASSIGN_PUBLIC_IP": "DISABLED",
        "KILN_EXECUTION_ROLE_ARN": "arn:aws:iam::123456789012:role/kiln-execution",
        "KILN_TASK_ROLE_ARN": "arn:aws:iam::123456789012:role/kiln-build",
        "KILN_UNTRUSTED_TASK_ROLE_ARN": "arn:aws:iam::123456789012:role/kiln-untrusted",
        "KILN_LOG_GROUP": "/kiln/builds", "KILN_WEBHOOK_SECRET_ARN": webhook,
        "KILN_GITHUB_SECRET_ARN": github, "KILN_GITHUB_API_URL": "http://127.0.0.1:9",
        "KILN_PAGES_URL": "https://pages.kiln.test",
    }


def cold_start(binary: str, event: bytes, env: dict, proxy: AwsProxy) -> tuple:
    """(ready, reply, in AWS) of one start, in seconds."""
    emulator = Emulator(event)
    full = {"PATH": os.environ.get("PATH", ""), "AWS_LAMBDA_RUNTIME_API": emulator.address(),
            "AWS_LAMBDA_FUNCTION_NAME": os.path.basename(os.path.dirname(binary)),
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_FORMAT": "JSON", **env}
    started = time.monotonic()
    process = subprocess.Popen([binary], env=full, stdin=subprocess.DEVNULL,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if not emulator.replied.wait(30):
            process.kill()
            err = process.communicate()[1].decode(errors="replace")[-2000:]
            raise SystemExit(f"{binary} did not reply within 30 s: {err}")
        at, kind, body = emulator.reply
        if kind != "response":
            raise SystemExit(f"{binary} replied with an error: {body.decode(errors='replace')}")
        return emulator.polled - started, at - started, proxy.waited(started, at)
    finally:
        process.kill()
        process.wait()
        emulator.close()


def main():
    lambda_dir, events_dir, runs, names = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    moto = os.environ["KILN_TEST_MOTO_URL"]
    env = installation(moto)
    proxy = AwsProxy(moto)
    env["AWS_ENDPOINT_URL"] = proxy.url()
    results = {}
    for name in names:
        binary = os.path.join(lambda_dir, name, "bootstrap")
        with open(os.path.join(events_dir, EVENTS[name]), "rb") as f:
            event = json.dumps(json.load(f)).encode()
        starts = [cold_start(binary, event, env, proxy) for _ in range(runs)]
        ready = statistics.median(s[0] for s in starts)
        reply = statistics.median(s[1] for s in starts)
        aws = statistics.median(s[2] for s in starts)
        own = statistics.median(s[1] - s[2] for s in starts)
        results[name] = (ready, reply, aws, own, os.path.getsize(binary))
    hello = results.get("kiln-bench-hello")

    def ratio(value, i):
        return f"{value / hello[i]:.1f}x" if hello and hello[i] else "-"

    print(f"{'function':<18} {'ready':>13} {'reply':>13} {'in AWS':>8} {'own':>13} {'size':>14}")
    for name, (ready, reply, aws, own, size) in results.items():
        print(f"{name:<18} {ready * 1e3:>5.1f} ms {ratio(ready, 0):>5} {reply * 1e3:>5.1f} ms"
              f" {ratio(reply, 1):>5} {aws * 1e3:>5.1f} ms {own * 1e3:>5.1f} ms {ratio(own, 3):>5}"
              f" {size / 1e6:>5.1f} MB {ratio(size, 4):>5}")


if __name__ == "__main__":
    main()
