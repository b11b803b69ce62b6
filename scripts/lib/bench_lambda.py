"""Cold starts of Lambda bootstraps behind a Lambda Runtime API emulator (for scripts/bench-lambda).

Usage: bench_lambda.py LAMBDA_DIR EVENTS_DIR RUNS NAME...

Each NAME is LAMBDA_DIR/NAME/bootstrap. A cold start is the time from starting the process to
its first reply (POST .../response or .../error) to the one event it is given; the median of
RUNS starts is reported with the binary's size and both ratios to kiln-bench-hello's. The
functions get an installation in moto (KILN_TEST_MOTO_URL): a state bucket, a catalog, the
secrets, a cluster. Exits 1 when a function fails to reply or replies with an error.
"""

import json
import os
import statistics
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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
        self.reply = None
        self.replied = threading.Event()
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                if not self.path.endswith("/runtime/invocation/next"):
                    self.send_error(404)
                    return
                if emulator.given:
                    emulator.replied.wait(30)
                    time.sleep(30)
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


def cold_start(binary: str, event: bytes, env: dict) -> float:
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
        return at - started
    finally:
        process.kill()
        process.wait()
        emulator.close()


def main():
    lambda_dir, events_dir, runs, names = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    env = installation(os.environ["KILN_TEST_MOTO_URL"])
    results = {}
    for name in names:
        binary = os.path.join(lambda_dir, name, "bootstrap")
        with open(os.path.join(events_dir, EVENTS[name]), "rb") as f:
            event = json.dumps(json.load(f)).encode()
        times = [cold_start(binary, event, env) for _ in range(runs)]
        results[name] = (statistics.median(times), os.path.getsize(binary))
    hello_ms, hello_size = results.get("kiln-bench-hello", (None, None))
    print(f"{'function':<18} {'cold start':>11} {'x hello':>8} {'size':>9} {'x hello':>8}")
    for name, (seconds, size) in results.items():
        ratio_t = f"{seconds / hello_ms:.2f}" if hello_ms else "-"
        ratio_s = f"{size / hello_size:.2f}" if hello_size else "-"
        print(f"{name:<18} {seconds * 1000:>8.1f} ms {ratio_t:>8} {size / 1e6:>6.1f} MB {ratio_s:>8}")


if __name__ == "__main__":
    main()
