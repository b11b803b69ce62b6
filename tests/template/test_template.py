"""template.yaml checked against DESIGN §4 from kiln's side.

`sam validate --lint` says the template is valid CloudFormation; these checks say it is kiln's:
the five functions with DESIGN §4's binaries and variables, their triggers, least-privilege
policies (no Allow of every action, none on every resource but for the few actions that have
no resource type), the untrusted task role without secrets, the state bucket closed to the
public, and the agent published where the task definition's init container copies it from.
The checks read the template as written and as the SAM translator expands it (Globals merged,
events turned into rules, permissions and subscriptions), offline.

Run by scripts/test with the SAM CLI's packages (.tools/sam) on PYTHONPATH:
    python3 -m unittest discover -s tests/template
The agent publisher's test runs its inline code against moto's server when KILN_TEST_MOTO_URL
names one (scripts/test starts it).
"""

import contextlib
import hashlib
import io
import http.server
import json
import os
import re
import sys
import tempfile
import threading
import tomllib
import types
import unittest
import uuid
from pathlib import Path

from cfnlint.decode import cfn_yaml
from samtranslator.translator.transform import transform

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
DESIGN = ROOT.parent / "shared" / "DESIGN.md"

# DESIGN §4, "The Lambda functions": binary -> the function's logical id and crate directory.
FUNCTIONS = {
    "kiln-webhook": ("KilnWebhookFunction", "functions/webhook"),
    "kiln-task-events": ("KilnTaskEventsFunction", "functions/task-events"),
    "kiln-log-relay": ("KilnLogRelayFunction", "functions/log-relay"),
    "kiln-sweeper": ("KilnSweeperFunction", "functions/sweeper"),
    "kiln-pages": ("KilnPagesFunction", "functions/pages"),
}
# DESIGN §4's variables (checked against DESIGN.md itself below).
DESIGN_VARIABLES = {
    "KILN_STATE_BUCKET", "KILN_CATALOG", "KILN_CLUSTER", "KILN_SUBNETS",
    "KILN_SECURITY_GROUPS", "KILN_ASSIGN_PUBLIC_IP", "KILN_EXECUTION_ROLE_ARN",
    "KILN_TASK_ROLE_ARN", "KILN_UNTRUSTED_TASK_ROLE_ARN", "KILN_LOG_GROUP",
    "KILN_WEBHOOK_SECRET_ARN", "KILN_GITHUB_SECRET_ARN", "KILN_GITHUB_API_URL",
    "KILN_PAGES_URL",
}
# The pages function cannot be given its own URL (a circular reference); it links relatively.
NOT_ON = {"kiln-pages": {"KILN_PAGES_URL"}}
# What each variable must be bound to.
BINDINGS = {
    "KILN_STATE_BUCKET": {"Ref": "StateBucket"},
    "KILN_CATALOG": {"Fn::Sub": "s3://${StateBucket}/${CatalogKey}"},
    "KILN_CLUSTER": {"Ref": "BuildCluster"},
    "KILN_EXECUTION_ROLE_ARN": {"Fn::GetAtt": ["TaskExecutionRole", "Arn"]},
    "KILN_TASK_ROLE_ARN": {"Fn::GetAtt": ["TrustedTaskRole", "Arn"]},
    "KILN_UNTRUSTED_TASK_ROLE_ARN": {"Fn::GetAtt": ["UntrustedTaskRole", "Arn"]},
    "KILN_LOG_GROUP": {"Ref": "BuildLogGroup"},
    "KILN_WEBHOOK_SECRET_ARN": {"Ref": "WebhookSecretArn"},
    "KILN_GITHUB_SECRET_ARN": {"Ref": "GitHubSecretArn"},
    "KILN_GITHUB_API_URL": {"Ref": "GitHubApiUrl"},
}
# Actions that have no resource type in IAM, the only ones an Allow may grant on "*".
NO_RESOURCE_TYPE = {
    "ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:ListTasks",
    "ecr:GetAuthorizationToken",
}
# The only managed policy a role may carry (SAM adds it to every function's role).
BASIC_EXECUTION = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
SECRET_SERVICES = ("secretsmanager:", "ssm:", "kms:")


def load_raw():
    return json.loads(json.dumps(cfn_yaml.loads(TEMPLATE.read_text())))


class _NoManagedPolicies:
    """The translator asks for managed policies only when Policies names one by name."""

    def load(self):
        return {}


def load_transformed():
    """The template as CloudFormation gets it: local code packaged (as `sam package` would
    upload it), then expanded by the SAM translator."""
    template = load_raw()
    for res in template["Resources"].values():
        props = res.get("Properties", {})
        for key in ("CodeUri", "ContentUri"):
            if isinstance(props.get(key), str) and not props[key].startswith("s3://"):
                props[key] = f"s3://kiln-deployment/{props[key]}"
    return transform(template, {}, _NoManagedPolicies())


def as_list(value):
    return value if isinstance(value, list) else [value]


def branches(node):
    """Every concrete value of `node`: both sides of each Fn::If, AWS::NoValue dropped."""
    if isinstance(node, dict) and set(node) == {"Fn::If"}:
        _, yes, no = node["Fn::If"]
        return branches(yes) + branches(no)
    if node == {"Ref": "AWS::NoValue"}:
        return []
    return [node]


def statements(document):
    out = []
    for stmt in as_list(document.get("Statement", [])):
        out.extend(branches(stmt))
    return out


def policy_documents(resources):
    """(owner, statement) for every identity and bucket policy statement, both branches."""
    found = []
    for name, res in resources.items():
        props = res.get("Properties", {})
        kind = res["Type"]
        if kind == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                for p in branches(policy):
                    found += [(name, s) for s in statements(p["PolicyDocument"])]
        elif kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            found += [(name, s) for s in statements(props["PolicyDocument"])]
        elif kind == "AWS::S3::BucketPolicy":
            found += [(name, s) for s in statements(props["PolicyDocument"])]
    return found


def strings_in(node):
    """Every literal string inside `node` (Sub templates and Join parts included)."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, list):
        return [s for item in node for s in strings_in(item)]
    if isinstance(node, dict):
        return [s for value in node.values() for s in strings_in(value)]
    return []


class TemplateAgainstDesign(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.raw = load_raw()
        cls.cfn = load_transformed()
        cls.resources = cls.cfn["Resources"]

    def test_design_names_the_variables_this_check_knows(self):
        if not DESIGN.is_file():
            self.skipTest(f"{DESIGN} is absent (no ../shared beside this checkout)")
        text = DESIGN.read_text()
        section = text[text.index("### The Lambda functions"):]
        section = section[: section.index("Every build transition")]
        named = set()
        for line in section.splitlines():
            if line.startswith("| `KILN_"):
                named |= set(re.findall(r"`(KILN_[A-Z_]+)`", line.split("|")[1]))
        self.assertEqual(named, DESIGN_VARIABLES, "DESIGN §4's variables changed")
        for binary in FUNCTIONS:
            self.assertIn(f"`{binary}`", section)

    def test_the_five_functions_build_design_binaries_with_cargo_lambda(self):
        res = self.raw["Resources"]
        glob = self.raw["Globals"]["Function"]
        built = {
            name: r["Metadata"]["BuildProperties"]["Binary"]
            for name, r in res.items()
            if r["Type"] == "AWS::Serverless::Function"
            and r.get("Metadata", {}).get("BuildMethod") == "rust-cargolambda"
        }
        self.assertEqual(sorted(built.values()), sorted(FUNCTIONS))
        for binary, (logical, crate) in FUNCTIONS.items():
            with self.subTest(binary=binary):
                self.assertEqual(built.get(logical), binary)
                props = res[logical]["Properties"]
                self.assertEqual(props["CodeUri"], crate)
                self.assertEqual(props.get("Runtime", glob.get("Runtime")), "provided.al2023")
                self.assertEqual(props.get("Handler", glob.get("Handler")), "bootstrap")
                self.assertEqual(
                    props.get("Architectures", glob.get("Architectures")),
                    [{"Ref": "Architecture"}],
                )
                manifest = ROOT / crate / "Cargo.toml"
                if manifest.is_file():
                    cargo = tomllib.loads(manifest.read_text())
                    bins = {b.get("name") for b in cargo.get("bin", [])}
                    names = bins or {cargo.get("package", {}).get("name")}
                    self.assertIn(binary, names, f"{crate}/Cargo.toml builds no {binary}")
                else:
                    print(f"note: {crate} is not in this tree; its binary is not checked",
                          file=sys.stderr)
        arch = self.raw["Parameters"]["Architecture"]
        self.assertEqual(arch["Default"], "arm64")
        self.assertEqual(set(arch["AllowedValues"]), {"arm64", "x86_64"})

    def test_every_function_has_design_variables(self):
        for binary, (logical, _) in FUNCTIONS.items():
            with self.subTest(binary=binary):
                fn = self.resources[logical]
                self.assertEqual(fn["Type"], "AWS::Lambda::Function")
                env = fn["Properties"]["Environment"]["Variables"]
                expected = DESIGN_VARIABLES - NOT_ON.get(binary, set())
                self.assertEqual(expected - set(env), set(), "variables missing")
                for name, value in BINDINGS.items():
                    self.assertEqual(env[name], value, name)
                for name in ("KILN_SUBNETS", "KILN_SECURITY_GROUPS", "KILN_ASSIGN_PUBLIC_IP"):
                    self.assertIn("Fn::If", env[name], name)
                if "KILN_PAGES_URL" in expected:
                    self.assertIn("KilnPagesFunctionUrl", json.dumps(env["KILN_PAGES_URL"]))
                self.assertEqual(fn["Properties"]["Runtime"], "provided.al2023")
                self.assertEqual(fn["Properties"]["Handler"], "bootstrap")
                self.assertEqual(fn["Properties"]["LoggingConfig"]["LogFormat"], "JSON")

    def test_network_is_given_or_created(self):
        env = self.resources["KilnWebhookFunction"]["Properties"]["Environment"]["Variables"]
        self.assertEqual(
            env["KILN_SUBNETS"]["Fn::If"],
            ["CreateVpc",
             {"Fn::Join": [",", [{"Ref": "PublicSubnetA"}, {"Ref": "PublicSubnetB"}]]},
             {"Fn::Join": [",", {"Ref": "SubnetIds"}]}],
        )
        self.assertEqual(env["KILN_ASSIGN_PUBLIC_IP"]["Fn::If"][:2], ["CreateVpc", "ENABLED"])
        for name in ("Vpc", "PublicSubnetA", "PublicSubnetB", "InternetGateway", "DefaultRoute"):
            self.assertEqual(self.resources[name].get("Condition"), "CreateVpc", name)
        sg = self.resources["BuildSecurityGroup"]["Properties"]
        self.assertNotIn("SecurityGroupIngress", sg)

    def test_triggers(self):
        res = self.resources
        urls = {
            r["Properties"]["TargetFunctionArn"]["Ref"]: r["Properties"]
            for r in res.values() if r["Type"] == "AWS::Lambda::Url"
        }
        self.assertEqual(set(urls), {"KilnWebhookFunction", "KilnPagesFunction"})
        for props in urls.values():
            self.assertEqual(props["AuthType"], "NONE")

        rules = [r["Properties"] for r in res.values() if r["Type"] == "AWS::Events::Rule"]

        def target_of(rule):
            (target,) = rule["Targets"]
            return target["Arn"]["Fn::GetAtt"][0]

        (ecs,) = [r for r in rules if "EventPattern" in r]
        self.assertEqual(target_of(ecs), "KilnTaskEventsFunction")
        pattern = ecs["EventPattern"]
        self.assertEqual(pattern["source"], ["aws.ecs"])
        self.assertEqual(pattern["detail-type"], ["ECS Task State Change"])
        self.assertEqual(pattern["detail"]["lastStatus"], ["STOPPED"])
        self.assertEqual(pattern["detail"]["clusterArn"], [{"Fn::GetAtt": ["BuildCluster", "Arn"]}])
        (schedule,) = [r for r in rules if "ScheduleExpression" in r]
        self.assertEqual(schedule["ScheduleExpression"], "rate(5 minutes)")
        self.assertEqual(target_of(schedule), "KilnSweeperFunction")
        sweeper = res["KilnSweeperFunction"]["Properties"]
        self.assertLess(sweeper["Timeout"], 300, "a sweep must end before the next one starts")

        (sub,) = [r["Properties"] for r in res.values()
                  if r["Type"] == "AWS::Logs::SubscriptionFilter"]
        self.assertEqual(sub["LogGroupName"], {"Ref": "BuildLogGroup"})
        self.assertEqual(sub["DestinationArn"], {"Fn::GetAtt": ["KilnLogRelayFunction", "Arn"]})
        perms = [r["Properties"] for r in res.values() if r["Type"] == "AWS::Lambda::Permission"
                 and r["Properties"]["Principal"] == "logs.amazonaws.com"]
        self.assertEqual([p["FunctionName"] for p in perms], [{"Ref": "KilnLogRelayFunction"}])

        webhook = res["KilnWebhookFunction"]["Properties"]
        self.assertGreaterEqual(webhook["Timeout"], 10, "intake must be able to finish")
        self.assertGreaterEqual(webhook["MemorySize"], 1024)

    def test_cluster_runs_fargate_and_spot(self):
        props = self.resources["BuildCluster"]["Properties"]
        self.assertEqual(set(props["CapacityProviders"]), {"FARGATE", "FARGATE_SPOT"})
        log = self.resources["BuildLogGroup"]["Properties"]
        self.assertEqual(log["RetentionInDays"], {"Ref": "LogRetentionDays"})

    def test_no_allow_of_every_action_or_on_every_resource(self):
        found = policy_documents(self.resources)
        self.assertGreater(len(found), 20)
        for owner, stmt in found:
            with self.subTest(owner=owner, sid=stmt.get("Sid")):
                if stmt["Effect"] != "Allow":
                    continue
                self.assertNotIn("NotAction", stmt)
                self.assertNotIn("NotResource", stmt)
                actions = as_list(stmt["Action"])
                resources = as_list(stmt.get("Resource", []))
                for action in actions:
                    self.assertNotEqual(action, "*")
                    self.assertFalse(action.endswith(":*"), f"{action}: every action of a service")
                if "*" in resources:
                    self.assertLessEqual(set(actions), NO_RESOURCE_TYPE,
                                         f"{actions} on every resource")
        for name, res in self.resources.items():
            if res["Type"] == "AWS::IAM::Role":
                for arn in res["Properties"].get("ManagedPolicyArns", []):
                    self.assertEqual(arn, BASIC_EXECUTION, name)

    def test_scoped_wildcards_carry_conditions(self):
        for owner, stmt in policy_documents(self.resources):
            if stmt["Effect"] == "Allow" and "*" in as_list(stmt.get("Resource", [])):
                actions = set(as_list(stmt["Action"]))
                if actions & {"ecs:RegisterTaskDefinition", "ecs:ListTasks"}:
                    self.assertIn("Condition", stmt, f"{owner} {stmt.get('Sid')}")
            if stmt["Effect"] == "Allow" and "ecs:RunTask" in as_list(stmt["Action"]):
                self.assertEqual(stmt["Condition"]["ArnEquals"]["ecs:cluster"],
                                 {"Fn::GetAtt": ["BuildCluster", "Arn"]})

    def test_pass_role_only_for_the_task_roles_to_ecs(self):
        passing = [(o, s) for o, s in policy_documents(self.resources)
                   if s["Effect"] == "Allow" and "iam:PassRole" in as_list(s["Action"])]
        self.assertTrue(passing)
        for owner, stmt in passing:
            self.assertEqual(as_list(stmt["Action"]), ["iam:PassRole"])
            self.assertEqual(
                sorted(r["Fn::GetAtt"][0] for r in stmt["Resource"]),
                ["TaskExecutionRole", "TrustedTaskRole", "UntrustedTaskRole"],
            )
            self.assertEqual(stmt["Condition"]["StringEquals"]["iam:PassedToService"],
                             "ecs-tasks.amazonaws.com")

    def test_untrusted_role_reads_no_secret(self):
        role = self.resources["UntrustedTaskRole"]["Properties"]
        self.assertNotIn("ManagedPolicyArns", role)
        self.assertNotIn("PermissionsBoundary", role)
        for name, res in self.resources.items():
            if res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                self.assertNotIn({"Ref": "UntrustedTaskRole"}, res["Properties"].get("Roles", []))
        stmts = [s for p in role["Policies"] for b in branches(p)
                 for s in statements(b["PolicyDocument"])]
        allowed = [s for s in stmts if s["Effect"] == "Allow"]
        for stmt in allowed:
            for action in as_list(stmt["Action"]):
                self.assertIn(action, {"s3:GetObject", "s3:PutObject"})
            for resource in as_list(stmt["Resource"]):
                (text,) = strings_in(resource)
                self.assertRegex(
                    text, r"^\$\{StateBucket\.Arn\}/(agent/\*|builds/\*/(description|summary)\.json)$")
        denied = {a for s in stmts if s["Effect"] == "Deny" and s["Resource"] == "*"
                  for a in as_list(s["Action"])}
        self.assertLessEqual({"secretsmanager:*", "ssm:*", "kms:Decrypt"}, denied)

    def test_trusted_role_never_reads_kilns_own_secrets(self):
        role = self.resources["TrustedTaskRole"]["Properties"]
        stmts = [s for p in role["Policies"] for s in statements(p["PolicyDocument"])]
        (deny,) = [s for s in stmts if s["Effect"] == "Deny"]
        self.assertEqual(as_list(deny["Action"]), ["secretsmanager:GetSecretValue"])
        self.assertEqual(deny["Resource"], [{"Ref": "WebhookSecretArn"}, {"Ref": "GitHubSecretArn"}])
        for stmt in stmts:
            if stmt["Effect"] == "Allow" and any(a.startswith(SECRET_SERVICES) for a in as_list(stmt["Action"])):
                self.assertIn("BuildSecretsPrefix", json.dumps(stmt["Resource"]))

    def test_only_webhook_and_finalizers_put_build_events(self):
        putters = set()
        for owner, stmt in policy_documents(self.resources):
            if stmt["Effect"] == "Allow" and "events:PutEvents" in as_list(stmt["Action"]):
                putters.add(owner)
                self.assertEqual(stmt["Condition"]["StringEquals"],
                                 {"events:source": "kiln", "events:detail-type": "Kiln Build State Change"})
                self.assertIn("event-bus/default", json.dumps(stmt["Resource"]))
        self.assertEqual(putters, {"KilnWebhookFunctionRole", "KilnTaskEventsFunctionRole",
                                   "KilnSweeperFunctionRole"})

    def test_state_bucket_is_private_encrypted_and_expires_old_objects(self):
        bucket = self.resources["StateBucket"]
        props = bucket["Properties"]
        self.assertEqual(props["PublicAccessBlockConfiguration"], {
            "BlockPublicAcls": True, "BlockPublicPolicy": True,
            "IgnorePublicAcls": True, "RestrictPublicBuckets": True,
        })
        (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        self.assertEqual(rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"], "AES256")
        self.assertEqual(props["OwnershipControls"]["Rules"][0]["ObjectOwnership"],
                         "BucketOwnerEnforced")
        self.assertEqual(bucket["DeletionPolicy"], "Retain")
        rules = props["LifecycleConfiguration"]["Rules"]
        expiring = {r.get("Prefix"): r["ExpirationInDays"] for r in rules if "ExpirationInDays" in r}
        self.assertEqual(set(expiring), {"builds/", "keys/", "artifacts/", "cache/"})
        self.assertNotIn("numbers/", expiring, "a build number must never be given twice")
        self.assertTrue(any("AbortIncompleteMultipartUpload" in r for r in rules))
        policy = self.resources["StateBucketPolicy"]["Properties"]["PolicyDocument"]
        tls = [s for s in statements(policy) if s["Effect"] == "Deny"
               and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"]
        self.assertEqual(len(tls), 1)
        self.assertEqual(tls[0]["Action"], "s3:*")

    def test_outputs(self):
        out = self.cfn["Outputs"]
        self.assertEqual(out["WebhookUrl"]["Value"],
                         {"Fn::GetAtt": ["KilnWebhookFunctionUrl", "FunctionUrl"]})
        self.assertEqual(out["PagesUrl"]["Value"],
                         {"Fn::GetAtt": ["KilnPagesFunctionUrl", "FunctionUrl"]})

    def test_agent_goes_where_the_init_container_copies_it_from(self):
        layer = self.raw["Resources"]["AgentLayer"]
        self.assertEqual(layer["Metadata"]["BuildMethod"], "makefile")
        makefile = (ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text()
        self.assertIn("build-AgentLayer:", makefile)
        self.assertIn("--package kiln-agent-bin --bin kiln-agent", makefile)
        self.assertIn("x86_64:x86_64-unknown-linux-musl aarch64:aarch64-unknown-linux-musl", makefile)
        self.assertIn("$(ARTIFACTS_DIR)/kiln-agent/$$arch/kiln-agent", makefile)
        agent = tomllib.loads((ROOT / "functions/agent/bin/Cargo.toml").read_text())
        self.assertEqual(agent["package"]["name"], "kiln-agent-bin")
        self.assertIn("kiln-agent", {b["name"] for b in agent["bin"]})
        compute = (ROOT / "shared/aws/src/ecs/compute.rs").read_text()
        self.assertIn('Self::X86_64 => "x86_64"', compute)
        self.assertIn('Self::Arm64 => "aarch64"', compute)
        definition = (ROOT / "shared/aws/src/ecs/definition.rs").read_text()
        self.assertIn('format!("agent/{}/kiln-agent", arch.agent_name())', definition)
        publisher = self.raw["Resources"]["AgentPublisherFunction"]["Properties"]
        self.assertIn('Key=f"agent/{arch}/kiln-agent"', publisher["InlineCode"])
        self.assertIn('ARCHES = ("x86_64", "aarch64")', publisher["InlineCode"])
        custom = self.raw["Resources"]["AgentBinaries"]["Properties"]
        self.assertEqual(custom["Layer"], {"Ref": "AgentLayer"}, "a new agent must republish")
        self.assertEqual(custom["Bucket"], {"Ref": "StateBucket"})


class _Capture(http.server.BaseHTTPRequestHandler):
    """CloudFormation's pre-signed response URL: keeps every PUT body."""

    bodies = []

    def do_PUT(self):
        length = int(self.headers["Content-Length"])
        type(self).bodies.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


class AgentPublisher(unittest.TestCase):
    """The custom resource's inline code against moto's S3 and a fake response URL."""

    @classmethod
    def setUpClass(cls):
        moto = os.environ.get("KILN_TEST_MOTO_URL")
        if not moto:
            raise unittest.SkipTest("KILN_TEST_MOTO_URL is not set (scripts/test starts moto)")
        os.environ.update({"AWS_ENDPOINT_URL": moto, "AWS_DEFAULT_REGION": "us-east-1",
                           "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
        import boto3

        cls.s3 = boto3.client("s3")
        cls.bucket = f"kiln-state-{uuid.uuid4().hex[:12]}"
        cls.s3.create_bucket(Bucket=cls.bucket)
        cls.server = http.server.HTTPServer(("127.0.0.1", 0), _Capture)
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()
        cls.layer = tempfile.TemporaryDirectory()
        cls.agents = {}
        for arch in ("x86_64", "aarch64"):
            body = b"\x7fELF" + arch.encode() + os.urandom(4096)
            path = Path(cls.layer.name, arch, "kiln-agent")
            path.parent.mkdir()
            path.write_bytes(body)
            cls.agents[arch] = body
        code = load_raw()["Resources"]["AgentPublisherFunction"]["Properties"]["InlineCode"]
        cls.module = types.ModuleType("agent_publisher")
        os.environ["KILN_AGENT_ROOT"] = cls.layer.name
        os.environ["KILN_AGENT_LAYER"] = "arn:aws:lambda:us-east-1:123456789012:layer:agent:7"
        exec(compile(code, "template.yaml#AgentPublisherFunction", "exec"), cls.module.__dict__)

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.layer.cleanup()

    def request(self, kind, layer=None, **extra):
        _Capture.bodies.clear()
        event = {
            "RequestType": kind,
            "ResponseURL": f"http://127.0.0.1:{self.server.server_port}/response",
            "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/kiln/1",
            "RequestId": str(uuid.uuid4()),
            "LogicalResourceId": "AgentBinaries",
            "ResourceType": "Custom::KilnAgent",
            "ResourceProperties": {
                "ServiceToken": "arn:aws:lambda:us-east-1:123456789012:function:publisher",
                "Bucket": self.bucket,
                "Layer": layer or os.environ["KILN_AGENT_LAYER"],
            },
            **extra,
        }
        with contextlib.redirect_stdout(io.StringIO()):
            self.module.handler(event, None)
        (answer,) = _Capture.bodies
        self.assertEqual(answer["RequestId"], event["RequestId"])
        self.assertEqual(answer["LogicalResourceId"], "AgentBinaries")
        return answer

    def test_create_publishes_both_agents_with_their_checksums(self):
        answer = self.request("Create")
        self.assertEqual(answer["Status"], "SUCCESS", answer["Reason"])
        self.assertEqual(answer["PhysicalResourceId"], f"s3://{self.bucket}/agent/")
        for arch, data_key in (("x86_64", "X86_64Sha256"), ("aarch64", "Aarch64Sha256")):
            body = self.agents[arch]
            obj = self.s3.get_object(Bucket=self.bucket, Key=f"agent/{arch}/kiln-agent")
            self.assertEqual(obj["Body"].read(), body)
            digest = hashlib.sha256(body).hexdigest()
            self.assertEqual(obj["Metadata"]["sha256"], digest)
            self.assertEqual(answer["Data"][data_key], digest)

    def test_update_from_a_stale_layer_fails_the_deployment(self):
        answer = self.request("Update", layer="arn:aws:lambda:us-east-1:123456789012:layer:agent:8",
                              PhysicalResourceId=f"s3://{self.bucket}/agent/")
        self.assertEqual(answer["Status"], "FAILED")
        self.assertIn("agent layer", answer["Reason"])
        self.assertEqual(answer["PhysicalResourceId"], f"s3://{self.bucket}/agent/")

    def test_a_missing_or_wrong_binary_fails_instead_of_hanging(self):
        path = Path(self.layer.name, "aarch64", "kiln-agent")
        saved = path.read_bytes()
        try:
            path.write_bytes(b"#!/bin/sh\n")
            answer = self.request("Create")
            self.assertEqual(answer["Status"], "FAILED")
            self.assertIn("not an ELF binary", answer["Reason"])
            path.unlink()
            answer = self.request("Create")
            self.assertEqual(answer["Status"], "FAILED")
            self.assertIn("FileNotFoundError", answer["Reason"])
        finally:
            path.write_bytes(saved)

    def test_delete_leaves_the_agents(self):
        self.assertEqual(self.request("Create")["Status"], "SUCCESS")
        answer = self.request("Delete", PhysicalResourceId=f"s3://{self.bucket}/agent/")
        self.assertEqual(answer["Status"], "SUCCESS")
        self.s3.head_object(Bucket=self.bucket, Key="agent/x86_64/kiln-agent")


if __name__ == "__main__":
    unittest.main()
