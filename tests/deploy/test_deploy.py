"""The deployment files (deploy/): the image, the compose stack and the Terraform for AWS.

No Docker engine and no AWS here, so these check what can be checked offline:
- Terraform: ``fmt -check``, ``init`` from the provider mirror (``/opt/tf-plugins``, AWS provider
  5.100) and ``validate``; then ``plan`` of each profile (hobby, dev, prod) against moto's server
  on loopback, and what each plan would build (the seed's setups, who the internet can reach);
- checkov over the Terraform and the Dockerfile, with every skip justified inline;
- hadolint over the Dockerfile; ``docker compose config`` where the docker client has compose;
- the compose topology: every service, the gateway, the actors, the learner and the evaluator, their
  start-up order, and the same ``GRL_*`` settings as ``settings.py`` and the ECS tasks;
- every command the containers, ECS tasks and training instances run is one the ``grl`` CLI has,
  with options it takes.

``GRL_DEPLOY_APPLY=1`` also applies the storage module to moto, re-plans (no changes), writes
through the blob seam and destroys (about 100 s: the AWS provider waits ~55 s on lifecycle rules).
Tools that are missing skip their tests, naming the tool; with ``GRL_REQUIRE_SERVERS=1`` (CI)
they fail instead.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REQUIRE_SERVERS, S3Server, server_missing
from generals_rl.cli.serve import NAMES as SERVE_NAMES
from generals_rl.services.runner import SERVICE_NAMES
from generals_rl.settings import DEFAULT_PORTS, SERVICES, Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
TERRAFORM = DEPLOY / "terraform"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
PROFILES = ("hobby", "dev", "prod")
PLUGIN_DIR = Path(os.environ.get("GRL_TF_PLUGIN_DIR", "/opt/tf-plugins"))
PROVIDER = PLUGIN_DIR / "registry.terraform.io/hashicorp/aws"

# GRL_* variables that are not settings.py's but are documented where they are read: the image's
# health check port (Dockerfile), the CloudWatch publisher (services/common/cloudwatch.py), and the
# compose file's own knobs (README "Deploy").
DOCUMENTED_EXTRAS = {
    "GRL_HEALTH_PORT": DOCKERFILE,
    "GRL_CLOUDWATCH_NAMESPACE": ROOT / "src/generals_rl/services/common/cloudwatch.py",
    "GRL_DEPLOYMENT": ROOT / "src/generals_rl/services/common/cloudwatch.py",
    "GRL_ACTORS": ROOT / "README.md",
    "GRL_IMAGE_TAG": ROOT / "README.md",
}


def tool(name: str, *candidates: Path) -> str:
    """Path of a command-line tool (the given places first, then PATH); skip or fail without it."""
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found is None:
        server_missing(f"{name} is not installed (make deploy-check installs the Python ones)")
    return str(found)


def grl_command(args: Sequence[str]) -> str:
    """The ``grl`` command ``args`` run ("serve", "db upgrade"), checked by the real CLI: a command
    it does not have, or an option that command does not take, fails the test."""
    import typer
    from typer.testing import CliRunner

    from generals_rl.cli.main import app

    command: Any = typer.main.get_command(app)
    path: list[str] = []
    for word in args:
        if not hasattr(command, "commands"):  # a command, not a group: the rest are its arguments
            break
        assert word in command.commands, f"grl has no command {' '.join([*path, word])!r}"
        command = command.commands[word]
        path.append(word)
    assert path and not hasattr(command, "commands"), f"`grl {' '.join(args)}` names no command"
    if path == ["serve"]:
        assert args[1] in SERVE_NAMES, f"grl serve has no {args[1]!r}"
    checked = CliRunner().invoke(app, [*args, "--help"])  # parses every option, runs nothing
    assert checked.exit_code == 0, f"`grl {' '.join(args)}`: {checked.output}"
    return " ".join(path)


def run(args: list[str], cwd: Path, timeout: float = 300, env: dict[str, str] | None = None) -> str:
    """Run a tool; fail with its output when it exits non-zero."""
    done = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(args)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}", pytrace=False
        )
    return done.stdout


# ---- Terraform -----------------------------------------------------------------------------------

TF_ENV = {
    "TF_IN_AUTOMATION": "1",
    "TF_INPUT": "0",
    "TF_CLI_CONFIG_FILE": os.devnull,
    "CHECKPOINT_DISABLE": "1",
}


@pytest.fixture(scope="module")
def terraform() -> str:
    binary = tool("terraform", Path("/usr/local/bin/terraform"))
    if not PROVIDER.is_dir():
        server_missing(
            f"the AWS provider mirror is missing: {PROVIDER} (terraform init runs offline from it)"
        )
    return binary


def copy_configuration(destination: Path) -> Path:
    """The Terraform tree without working files, so tests never touch the repository's."""
    shutil.copytree(
        TERRAFORM, destination, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*", "*.tfplan")
    )
    return destination


TEST_IMAGES = {"image": "generals-rl:test-cpu", "learner_image": "generals-rl:test-cuda"}


def provider_override(endpoint: str) -> str:
    """An override file: local state, and every AWS API the configuration uses on ``endpoint``."""
    services = [
        "autoscaling", "budgets", "cloudwatch", "ec2", "ecr", "ecs", "elasticache", "elbv2", "iam",
        "logs", "rds", "s3", "secretsmanager", "servicediscovery", "ssm", "sts",
    ]  # fmt: skip
    endpoints = "\n".join(f'    {service} = "{endpoint}"' for service in services)
    return f"""terraform {{
  backend "local" {{}}
}}

provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = true
  s3_use_path_style           = true

  endpoints {{
{endpoints}
  }}
}}
"""


def test_terraform_is_formatted(terraform: str) -> None:
    run([terraform, "fmt", "-check", "-recursive", "-diff"], TERRAFORM, env=TF_ENV)


def test_terraform_validates_offline(terraform: str, tmp_path: Path) -> None:
    work = copy_configuration(tmp_path / "terraform")
    run([terraform, "init", "-backend=false", f"-plugin-dir={PLUGIN_DIR}"], work, env=TF_ENV)
    out = run([terraform, "validate", "-json"], work, env=TF_ENV)
    result = json.loads(out)
    assert result["valid"], result["diagnostics"]
    assert result["warning_count"] == 0, result["diagnostics"]


def test_provider_is_pinned_to_the_mirrored_series() -> None:
    versions = (TERRAFORM / "versions.tf").read_text()
    assert re.search(r'version\s*=\s*"~> 5\.100"', versions)
    lock = (TERRAFORM / ".terraform.lock.hcl").read_text()
    assert 'version     = "5.100.0"' in lock


@pytest.fixture(scope="module")
def plans(terraform: str, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``terraform plan`` of every profile against moto's server, as JSON (``terraform show``)."""
    work = copy_configuration(tmp_path_factory.mktemp("plan") / "terraform")
    # Images by fixed names instead of the ECR repository's URL (known only after apply), so that
    # the plan shows what the evaluator task and the training instances run.
    images = "\n".join(f'  {name} = "{value}"' for name, value in TEST_IMAGES.items())
    override = provider_override(s3_server.endpoint_url) + f"\nlocals {{\n{images}\n}}\n"
    (work / "zz_test_override.tf").write_text(override)
    run([terraform, "init", f"-plugin-dir={PLUGIN_DIR}"], work, env=TF_ENV)
    shown = {}
    for profile in PROFILES:
        run(
            [
                terraform,
                "plan",
                "-lock=false",
                f"-var-file=profiles/{profile}.tfvars",
                f"-out={profile}.tfplan",
            ],
            work,
            env=TF_ENV,
        )
        shown[profile] = json.loads(run([terraform, "show", "-json", f"{profile}.tfplan"], work, env=TF_ENV))
    return shown


def planned(plan: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    """The planned values of every resource of a type, in every module."""
    found: list[dict[str, Any]] = []

    def walk(module: dict[str, Any]) -> None:
        found.extend(
            {"address": r["address"], **(r.get("values") or {})}
            for r in module.get("resources", [])
            if r["type"] == resource_type
        )
        for child in module.get("child_modules", []):
            walk(child)

    walk(plan["planned_values"]["root_module"])
    return found


def test_every_profile_plans(plans: dict[str, Any]) -> None:
    for profile in PROFILES:
        changes = [c for c in plans[profile]["resource_changes"] if c["mode"] == "managed"]
        assert changes and all(c["change"]["actions"] == ["create"] for c in changes), profile
        assert len(planned(plans[profile], "aws_budgets_budget")) == 1
        assert {b["bucket"] for b in planned(plans[profile], "aws_s3_bucket")} == {
            f"generals-rl-{role}" for role in ("models", "replays", "experiences", "checkpoints", "logs")
        }
        assert len(planned(plans[profile], "aws_vpc_endpoint")) == 1


def test_hobby_is_one_instance_without_cluster(plans: dict[str, Any]) -> None:
    plan = plans["hobby"]
    assert len(planned(plan, "aws_instance")) == 1
    for absent in (
        "aws_ecs_cluster",
        "aws_nat_gateway",
        "aws_rds_cluster",
        "aws_lb",
        "aws_autoscaling_group",
    ):
        assert planned(plan, absent) == [], absent
    (alarm,) = planned(plan, "aws_cloudwatch_metric_alarm")
    assert alarm["alarm_actions"] == ["arn:aws:automate:us-east-1:ec2:stop"]


def group(plan: dict[str, Any], role: str) -> dict[str, Any]:
    (found,) = [g for g in planned(plan, "aws_autoscaling_group") if g["name"] == f"generals-rl-{role}"]
    return found


def on_demand_percent(asg: dict[str, Any]) -> int:
    distribution = asg["mixed_instances_policy"][0]["instances_distribution"][0]
    return int(distribution["on_demand_percentage_above_base_capacity"])


def instance_type(asg: dict[str, Any]) -> str:
    return str(asg["mixed_instances_policy"][0]["launch_template"][0]["override"][0]["instance_type"])


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_cluster_profiles_match_the_seed(plans: dict[str, Any], profile: str) -> None:
    plan = plans[profile]
    services = {s["name"] for s in planned(plan, "aws_ecs_service")}
    # dev leaves the gateway (and its ALB) out: the web UI is not worth its ALB there
    assert services == {*SERVICE_NAMES, "evaluator", *(["gateway"] if profile == "prod" else [])}
    actors, learners = group(plan, "actors"), group(plan, "learners")
    assert (instance_type(actors), instance_type(learners)) == ("c5.xlarge", "p3.2xlarge")
    assert actors["min_size"] == 0 and learners["min_size"] == 0  # both can scale to zero
    assert on_demand_percent(actors) == 0  # Spot
    # The seed: dev's one GPU on demand (stopped when not training), prod's learners on Spot.
    assert on_demand_percent(learners) == (100 if profile == "dev" else 0)
    assert (actors["max_size"], learners["max_size"]) == ((3, 1) if profile == "dev" else (10, 3))
    nats = planned(plan, "aws_nat_gateway")
    assert len(nats) == (1 if profile == "dev" else 2)
    (redis,) = planned(plan, "aws_elasticache_replication_group")
    assert redis["num_cache_clusters"] == (1 if profile == "dev" else 2)
    assert redis["transit_encryption_enabled"] and redis["at_rest_encryption_enabled"]
    (aurora,) = planned(plan, "aws_rds_cluster")
    assert aurora["engine"] == "aurora-postgresql" and aurora["storage_encrypted"]
    assert "master_password" not in {k for k, v in aurora.items() if v}  # write-only: not in the plan
    load_balancers = {lb["load_balancer_type"] for lb in planned(plan, "aws_lb")}
    assert load_balancers == ({"network", "application"} if profile == "prod" else {"network"})
    assert all(not lb["internal"] for lb in planned(plan, "aws_lb"))


@pytest.mark.parametrize("profile", ["dev", "prod"])
def test_the_evaluator_and_the_training_instances_run_grl_with_the_services_settings(
    plans: dict[str, Any], profile: str
) -> None:
    plan = plans[profile]
    (task,) = [t for t in planned(plan, "aws_ecs_task_definition") if t["family"] == "generals-rl-evaluator"]
    (container,) = json.loads(task["container_definitions"])
    assert grl_command(container["command"]) == "evaluate"
    assert {"--watch", "--running"} <= set(container["command"])
    (evaluator,) = [s for s in planned(plan, "aws_ecs_service") if s["name"] == "evaluator"]
    assert evaluator["desired_count"] == 1 and evaluator["deployment_maximum_percent"] == 100  # never two
    environments = {"evaluator": {e["name"]: e["value"] for e in container["environment"]}}
    for group, command in (("actors", "actor"), ("learners", "learner")):
        (template,) = [
            t for t in planned(plan, "aws_launch_template") if t["name_prefix"] == f"generals-rl-{group}-"
        ]
        script = base64.b64decode(template["user_data"]).decode()
        image = TEST_IMAGES["learner_image" if group == "learners" else "image"]
        *_, docker_run = re.findall(rf"^\s*{re.escape(image)} (.+)$", script, re.MULTILINE)
        assert grl_command(docker_run.split()) == command
        settings = script.split("<<'SETTINGS'\n", 1)[1].split("\nSETTINGS\n", 1)[0]
        environments[command] = dict(line.split("=", 1) for line in settings.splitlines())
    for name, env in environments.items():
        settings = Settings.from_env(env)
        for peer in SERVICES:  # the services by their Cloud Map names
            assert settings.address(peer) == f"{peer}.generals-rl.internal:{DEFAULT_PORTS[peer]}", name
        assert settings.blob_uri == "s3://generals-rl", name  # checkpoints (the learner's) in S3
        assert "GRL_SQL_URI" not in env and "GRL_CACHE_URI" not in env, name  # services only
        assert env["GRL_LOG_FORMAT"] == "json", name


def test_scaling_follows_the_services_metrics(plans: dict[str, Any]) -> None:
    alarms = {a["alarm_name"]: a for a in planned(plans["prod"], "aws_cloudwatch_metric_alarm")}
    assert alarms["generals-rl-game-queue-waiting"]["metric_name"] == "GameQueueLength"
    assert alarms["generals-rl-game-queue-idle"]["metric_name"] == "GameQueueLength"
    assert alarms["generals-rl-replay-backlog-high"]["metric_name"] == "ReplayBufferSize"
    idle = alarms["generals-rl-training-idle"]
    metrics = {q["metric"][0]["metric_name"] for q in idle["metric_query"] if q.get("metric")}
    assert metrics == {"ExperiencesRecorded", "ReplayBufferSize"}
    for alarm in alarms.values():
        namespaces = {alarm.get("namespace")} | {
            q["metric"][0]["namespace"] for q in alarm.get("metric_query") or [] if q.get("metric")
        }
        assert namespaces - {None, "AWS/AutoScaling"} == {"GeneralsRL"}, alarm["alarm_name"]
    policies = {p["name"]: p for p in planned(plans["prod"], "aws_autoscaling_policy")}
    assert policies["training-idle-to-zero"]["adjustment_type"] == "ExactCapacity"
    assert policies["training-idle-to-zero"]["scaling_adjustment"] == 0
    schedules = planned(plans["dev"], "aws_autoscaling_schedule")
    assert {s["desired_capacity"] for s in schedules} == {0} and len(schedules) == 2


@pytest.mark.parametrize("profile", PROFILES)
def test_the_internet_reaches_only_game_matchmaker_and_gateway(plans: dict[str, Any], profile: str) -> None:
    groups = {g["name"].removeprefix("generals-rl-") for g in planned(plans[profile], "aws_security_group")}
    assert groups >= {"nlb", "alb", "public-services", "private-services", "training", "database", "cache"}
    open_to_world = [
        r
        for r in planned(plans[profile], "aws_vpc_security_group_ingress_rule")
        if r.get("cidr_ipv4") == "0.0.0.0/0"
    ]
    assert open_to_world
    for rule in open_to_world:
        address, port = rule["address"], rule["from_port"]
        assert rule["from_port"] == rule["to_port"], address
        if ".nlb_public" in address:
            assert port in (DEFAULT_PORTS["game"], DEFAULT_PORTS["matchmaker"])
        elif ".alb_public" in address:
            assert port == 80  # 443 with a certificate
        elif ".host_public" in address:
            assert port in (DEFAULT_PORTS["game"], DEFAULT_PORTS["matchmaker"], DEFAULT_PORTS["gateway"])
        else:
            pytest.fail(f"{address} opens port {port} to the internet")
    for rule in planned(plans[profile], "aws_vpc_security_group_ingress_rule"):
        assert rule.get("cidr_ipv4") in (None, "0.0.0.0/0", "10.0.0.0/16"), rule["address"]
        if rule.get("cidr_ipv4") == "10.0.0.0/16":  # the VPC reaches the services' gRPC only
            assert DEFAULT_PORTS["game"] <= rule["from_port"] <= rule["to_port"] <= DEFAULT_PORTS["replay"]


def test_private_subnets_reach_s3_through_the_gateway_endpoint(plans: dict[str, Any]) -> None:
    (endpoint,) = planned(plans["prod"], "aws_vpc_endpoint")
    assert endpoint["vpc_endpoint_type"] == "Gateway"
    assert endpoint["service_name"] == "com.amazonaws.us-east-1.s3"
    subnets = {s["cidr_block"] for s in planned(plans["prod"], "aws_subnet")}
    assert subnets == {
        "10.0.0.0/24", "10.0.1.0/24", "10.0.16.0/20", "10.0.32.0/20", "10.0.64.0/19", "10.0.96.0/19"
    }  # fmt: skip


def test_lifecycle_rules(plans: dict[str, Any]) -> None:
    rules = {
        r["address"].split('"')[1] if '"' in r["address"] else "logs": r["rule"][0]
        for r in planned(plans["prod"], "aws_s3_bucket_lifecycle_configuration")
    }
    assert set(rules) == {"models", "replays", "experiences", "checkpoints", "logs"}
    assert not rules["models"]["expiration"]  # the policies themselves are kept
    assert rules["experiences"]["expiration"][0]["days"] == 14
    assert rules["replays"]["transition"][0]["storage_class"] == "STANDARD_IA"
    assert all(
        rule["abort_incomplete_multipart_upload"][0]["days_after_initiation"] == 7 for rule in rules.values()
    )


# ---- checkov and hadolint ------------------------------------------------------------------------


def test_checkov_passes_with_every_skip_justified() -> None:
    checkov = tool("checkov", DEPLOY / ".tools-venv/bin/checkov")
    done = subprocess.run(
        [checkov, "--directory", str(DEPLOY), "--framework", "terraform", "dockerfile", "--output", "json",
         "--quiet", "--compact", "--skip-download"],
        capture_output=True, text=True, timeout=300, env={**os.environ, **TF_ENV},
    )  # fmt: skip
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    failed = [
        f"{c['check_id']} {c['resource']} ({c['file_path']})"
        for report in reports
        for c in report.get("results", {}).get("failed_checks", [])
    ]
    assert not failed, "\n".join(failed)
    assert {report["check_type"] for report in reports} == {"terraform", "dockerfile"}
    for path in TERRAFORM.rglob("*.tf"):
        for line in path.read_text().splitlines():
            if "checkov:skip" in line:
                assert re.search(r"#checkov:skip=CKV2?_[A-Z]+_\d+:\S.{10,}", line), f"{path}: {line.strip()}"


def test_hadolint_passes() -> None:
    hadolint = tool("hadolint", ROOT / ".venv/bin/hadolint")
    run([hadolint, "--failure-threshold", "info", str(DOCKERFILE)], ROOT)


def test_dockerfile_runs_grl_as_a_non_root_user_with_a_grpc_health_check() -> None:
    text = DOCKERFILE.read_text()
    assert 'ENTRYPOINT ["grl"]' in text
    assert re.search(r"^USER 10001", text, re.MULTILINE)
    assert "generals_rl.cli.health" in text and "HEALTHCHECK" in text
    # Dependencies before the source: editing src/ keeps the dependency layers cached.
    assert text.index("COPY pyproject.toml") < text.index("COPY src/")
    assert "ARG TORCH_VARIANT=cpu" in text
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignore[ignore.index("*")] and "!src/" in ignore and "!pyproject.toml" in ignore


# ---- compose -------------------------------------------------------------------------------------


class StrictLoader(yaml.SafeLoader):
    """YAML as docker compose reads it: a key twice in one mapping is an error (PyYAML keeps the
    last one silently; compose's Go parser refuses the file)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        keys = [key.value for key, _ in node.value if isinstance(key, yaml.ScalarNode)]  # `<<` too
        twice = {key for key in keys if keys.count(key) > 1}
        if twice:
            raise yaml.constructor.ConstructorError(None, None, f"keys given twice: {twice}", node.start_mark)
        return super().construct_mapping(node, deep=deep)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return dict(yaml.load(COMPOSE.read_text(), Loader=StrictLoader))


def grl_containers(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The containers of the generals-rl image (the others are PostgreSQL, Redis, MinIO, mc)."""
    return {
        n: s for n, s in compose["services"].items() if str(s.get("image", "")).startswith("generals-rl:")
    }


def test_docker_compose_config() -> None:
    docker = shutil.which("docker")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True) if docker else None
    if probe is None or probe.returncode != 0:
        pytest.skip("the docker client has no compose plugin here: `docker compose config` not run")
    run([str(docker), "compose", "--file", str(COMPOSE), "--profile", "gpu", "config", "--quiet"], ROOT)


def test_compose_runs_every_service_after_storage_buckets_and_migrations(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in SERVICE_NAMES:
        service = services[name]
        assert service["command"] == ["serve", name]
        assert service["environment"]["GRL_HEALTH_PORT"] == str(DEFAULT_PORTS[name])
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["buckets"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"
    # Only the public services are published beyond the host's loopback.
    for name, service in services.items():
        for port in service.get("ports", []):
            if not str(port).startswith("127.0.0.1:"):
                assert name in ("game", "matchmaker", "gateway"), f"{name} publishes {port}"
    # The seed's topology by default: the services, the gateway, N actors, one learner and the
    # evaluator, which start once the services are healthy; the GPU learner is the one profile.
    for name in ("gateway", "actor", "learner", "evaluator"):
        assert "profiles" not in services[name], name
        for peer in SERVICE_NAMES:
            assert services[name]["depends_on"][peer]["condition"] == "service_healthy", (name, peer)
    assert services["learner-gpu"]["profiles"] == ["gpu"]
    assert services["actor"]["deploy"]["replicas"] == "${GRL_ACTORS:-2}"
    for single in ("learner", "evaluator"):  # one of each: two would train or judge twice
        assert "replicas" not in services[single].get("deploy", {}), single
    probe = " ".join(services["gateway"]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{DEFAULT_PORTS['gateway']}/healthz" in probe
    buckets = " ".join(services["buckets"]["command"])
    for role in ("models", "replays", "experiences", "checkpoints"):
        assert f"local/generals-rl-{role}" in buckets


def test_every_compose_command_is_a_grl_command(compose: dict[str, Any]) -> None:
    commands = {name: grl_command(c["command"]) for name, c in grl_containers(compose).items()}
    assert commands == {
        "migrate": "db upgrade",
        **dict.fromkeys(SERVICE_NAMES, "serve"),
        "gateway": "serve",
        "actor": "actor",
        "learner": "learner",
        "learner-gpu": "learner",
        "evaluator": "evaluate",
    }
    assert {"--watch", "--running"} <= set(compose["services"]["evaluator"]["command"])


def settings_variables() -> set[str]:
    """Every GRL_* variable settings.py reads (GRL_<SERVICE>_PORT/_ADDR expanded)."""
    source = (ROOT / "src/generals_rl/settings.py").read_text()
    names = set(re.findall(r'"(GRL_[A-Z_]+)"', source))
    assert 'f"GRL_{name.upper()}_PORT"' in source and 'f"GRL_{name.upper()}_ADDR"' in source
    names |= {f"GRL_{s.upper()}_{kind}" for s in SERVICES for kind in ("PORT", "ADDR")}
    return names


def compose_variables(compose: dict[str, Any]) -> set[str]:
    names = set(re.findall(r"\b(GRL_[A-Z_]+)", COMPOSE.read_text()))
    for service in compose["services"].values():
        names |= {key for key in service.get("environment") or {} if key.startswith("GRL_")}
    return names


def test_compose_settings_exist_in_settings_py_or_are_documented(compose: dict[str, Any]) -> None:
    known = settings_variables()
    for name in sorted(compose_variables(compose) - known):
        assert name in DOCUMENTED_EXTRAS, f"{name} is neither a setting (settings.py) nor documented"
        where = DOCUMENTED_EXTRAS[name]
        assert where.exists() and name in where.read_text(), f"{name} is not documented in {where}"


def test_compose_settings_parse_and_point_at_the_services(compose: dict[str, Any]) -> None:
    from generals_rl.storage.blobs.s3 import parse_s3_uri
    from generals_rl.storage.cache.redis import parse_redis_uri

    for container in grl_containers(compose).values():  # services, training, evaluator alike
        env = {k: str(v) for k, v in container["environment"].items()}
        settings = Settings.from_env(env)
        assert settings.host == "0.0.0.0"
        assert settings.sql_uri.startswith("postgresql://grl:") and settings.sql_uri.endswith(
            "@postgres:5432/grl"
        )
        for peer in SERVICES:
            assert settings.address(peer) == f"{peer}:{DEFAULT_PORTS[peer]}"
        prefix, _, options = parse_s3_uri(settings.blob_uri)
        assert (prefix, options["endpoint_url"]) == ("generals-rl", "http://minio:9000")
        parse_redis_uri(settings.cache_uri)


def test_compose_and_ecs_tasks_get_the_same_settings(compose: dict[str, Any]) -> None:
    ecs = (TERRAFORM / "modules/compute/ecs.tf").read_text()
    ecs_names = set(re.findall(r"\b(GRL_[A-Z_]+)\s*=", ecs))
    assert '"GRL_${upper(service)}_ADDR"' in ecs  # one per entry of local.ports: every service
    ecs_names |= {f"GRL_{s.upper()}_ADDR" for s in SERVICES}
    ecs_names |= {"GRL_HEALTH_PORT"} if "GRL_HEALTH_PORT" in ecs else set()
    in_compose = {n for n in compose_variables(compose) if n not in ("GRL_ACTORS", "GRL_IMAGE_TAG")}
    # AWS-only: the CloudWatch publisher (no CloudWatch locally).
    assert ecs_names - in_compose == {"GRL_CLOUDWATCH_NAMESPACE", "GRL_DEPLOYMENT"}
    assert in_compose - ecs_names == set()


# ---- the storage module applied to moto (opt-in: ~100 s) -----------------------------------------


REQUIRED_AWS = """  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.100" }
  }
"""


@pytest.fixture
def storage_root(terraform: str, s3_server: S3Server, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    if os.environ.get("GRL_DEPLOY_APPLY") != "1":
        pytest.skip("set GRL_DEPLOY_APPLY=1 to apply the storage module to moto (~100 s)")
    prefix = f"grl-tf-{uuid.uuid4().hex[:8]}"
    work = tmp_path / "storage"
    work.mkdir()
    shutil.copytree(TERRAFORM / "modules/storage", work / "storage")
    override = provider_override(s3_server.endpoint_url).replace('  backend "local" {}\n', "")
    (work / "main.tf").write_text(
        override.replace("terraform {\n", "terraform {\n" + REQUIRED_AWS)
        + f"""
module "storage" {{
  source        = "./storage"
  bucket_prefix = "{prefix}"
  force_destroy = true
  lifecycle_days = {{
    replays_to_ia = 30, replays_expire = 365, experiences_expire = 14, checkpoints_expire = 30,
    noncurrent_versions_keep = 7
  }}
}}

output "blob_uri" {{
  value = module.storage.blob_uri
}}
"""
    )
    run([terraform, "init", f"-plugin-dir={PLUGIN_DIR}"], work, env=TF_ENV)
    try:
        yield work, prefix
    finally:
        subprocess.run(
            [terraform, "destroy", "-auto-approve"], cwd=work, env={**os.environ, **TF_ENV}, timeout=300
        )


def test_storage_module_applies_to_an_s3_compatible_server(
    terraform: str, storage_root: tuple[Path, str], s3_server: S3Server
) -> None:
    import boto3

    from generals_rl.storage import StorageError, open_blobs

    work, prefix = storage_root
    run([terraform, "apply", "-auto-approve"], work, env=TF_ENV, timeout=400)
    done = subprocess.run(
        [terraform, "plan", "-detailed-exitcode"], cwd=work, env={**os.environ, **TF_ENV}, capture_output=True
    )
    assert done.returncode == 0, f"a second plan wants changes:\n{done.stdout.decode()}"
    blob_uri = json.loads(run([terraform, "output", "-json", "blob_uri"], work, env=TF_ENV))
    assert blob_uri == f"s3://{prefix}"

    s3 = boto3.client("s3", endpoint_url=s3_server.endpoint_url, region_name="us-east-1")
    for role in ("models", "replays", "experiences", "checkpoints"):
        bucket = f"{prefix}-{role}"
        assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
        assert s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"]["TargetBucket"] == f"{prefix}-logs"
    # The services' blob seam finds the buckets Terraform made, and their TLS-only policy (which
    # moto enforces) refuses a write over plain HTTP, as S3 would.
    blobs = open_blobs(f"{blob_uri}?endpoint_url={s3_server.endpoint_url}&region=us-east-1")
    blobs.ensure_buckets()
    with pytest.raises(StorageError, match="403"):
        blobs.put("models", "v1/weights.safetensors", b"weights")


def test_ci_requires_the_deploy_tools() -> None:
    """CI (GRL_REQUIRE_SERVERS=1) must not skip these checks silently: .ci/run provisions them."""
    ci = (ROOT / ".ci/run").read_text()
    for needed in ("terraform", "tf-plugins", "deploy-tools"):
        assert needed in ci, needed
    if REQUIRE_SERVERS:
        assert shutil.which("terraform") or Path("/usr/local/bin/terraform").exists()
