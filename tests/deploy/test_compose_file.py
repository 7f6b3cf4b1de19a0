"""docker-compose.yml and deploy/Dockerfile, validated without a Docker engine.

No Docker runs on our machines, so these tests check what can be checked statically: every file a
service mounts exists, images are pinned, ports, hostnames, secrets and volumes agree between the
compose file and the Prometheus / Alertmanager / Grafana / TradeWatch configs it mounts, the
configs pass promtool / amtool / our own loader, and the Dockerfile is multi-stage, non-root and
health-checked.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml

from tests.support.procs import REPO
from tradewatch.config import load_config

COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
# the ports the upstream images listen on by default (we pass no --web.listen-address to them)
IMAGE_PORTS = {"prom/prometheus": 9090, "prom/alertmanager": 9093, "grafana/grafana": 3000,
               "axllent/mailpit": 8025}


def _mounts(service: dict[str, Any]) -> dict[str, str]:
    """container path -> host source, for bind mounts and named volumes."""
    out = {}
    for vol in service.get("volumes", []):
        src, dst, *_ = vol.split(":")
        out[dst] = src
    return out


def _mounted_file(service: dict[str, Any], container_path: str) -> Path:
    """The repository file a container path comes from (directly or inside a mounted folder)."""
    path = Path(container_path)
    for dst, src in sorted(_mounts(service).items(), key=lambda m: -len(m[0])):
        if path == Path(dst) or path.is_relative_to(dst):
            assert src.startswith("./"), f"{container_path} is not a bind mount from the repository"
            return REPO / src / path.relative_to(dst)
    raise AssertionError(f"nothing is mounted at {container_path}")


def _listen_port(service: dict[str, Any]) -> int:
    """The port a service listens on: our `--listen HOST:PORT`, else the image's default."""
    cmd = service.get("command", [])
    if "--listen" in cmd:
        return int(cmd[cmd.index("--listen") + 1].rsplit(":", 1)[1])
    image = service["image"].split(":")[0]
    return IMAGE_PORTS[image]


def _service_for(compose: dict[str, Any], host: str) -> tuple[str, dict[str, Any]]:
    """The service a container reaches at `host`: a service name, or the host-network one."""
    services = compose["services"]
    if host in services:
        return host, services[host]
    assert host == "host.docker.internal", f"{host} is neither a service nor the host"
    host_net = [(n, s) for n, s in services.items() if s.get("network_mode") == "host"]
    assert len(host_net) == 1, host_net
    return host_net[0]


def _assert_reaches(compose: dict[str, Any], client: str, url_or_target: str) -> str:
    """client can reach url's host:port, and something listens there; returns the service name."""
    parsed = urlparse(url_or_target if "://" in url_or_target else f"http://{url_or_target}")
    name, service = _service_for(compose, parsed.hostname or "")
    assert parsed.port == _listen_port(service), f"{client} -> {url_or_target}: {name} listens elsewhere"
    if parsed.hostname == "host.docker.internal":
        assert "host.docker.internal:host-gateway" in compose["services"][client].get("extra_hosts", []), (
            f"{client} reaches {name} on the host network but lacks the host-gateway mapping")
    return name


def test_every_bind_mount_source_exists_and_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    declared = set(compose.get("volumes", {}))
    used = set()
    for name, service in compose["services"].items():
        for dst, src in _mounts(service).items():
            if src.startswith("./"):
                assert (REPO / src).exists(), f"{name}: {src} (mounted at {dst}) does not exist"
            elif src.startswith("/"):
                assert name == "exporter" and src == "/", f"{name}: unexpected host path {src}"
            else:
                assert src in declared, f"{name}: volume {src} is not declared"
                used.add(src)
        for secret in service.get("secrets", []):
            assert secret in compose.get("secrets", {}), f"{name}: secret {secret} is not declared"
    assert used == declared, f"declared but unused volumes: {declared - used}"
    assert "bridge-data" in _mounts(compose["services"]["bridge"]).values()  # SQLite survives


def test_images_are_pinned_and_ours_is_the_project_version(compose: dict[str, Any]) -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    for name, service in compose["services"].items():
        image = service["image"]
        repo, _, tag = image.rpartition(":")
        assert repo and tag and tag != "latest", f"{name}: image {image} is not pinned"
        assert re.fullmatch(r"v?\d+\.\d+\.\d+", tag), f"{name}: {image} is not pinned to a release"
        if "build" in service:
            assert image == f"tradewatch:{version}"
            assert (REPO / service["build"]["context"] / service["build"]["dockerfile"]).exists()


def test_profiles_and_host_view(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["demo-bot"]["profiles"] == ["demo"]
    assert services["mailpit"]["profiles"] == ["dev"]
    always = {n for n, s in services.items() if "profiles" not in s}
    assert always == {"exporter", "bridge", "prometheus", "alertmanager", "grafana"}
    exporter = services["exporter"]
    assert exporter["pid"] == "host" and exporter["network_mode"] == "host"
    assert _mounts(exporter)["/host"] == "/" and "/:/host:ro,rslave" in exporter["volumes"]
    cfg = load_config(_mounted_file(exporter, "/etc/tradewatch/tradewatch.yaml"),
                      env={"TRADEWATCH_API_TOKEN": "x"})
    # the host's mounts, named as the host names them (node_exporter's --path.rootfs)
    assert cfg.exporter.collectors.path_rootfs == "/host"
    command = exporter["command"]
    assert command[command.index("--path.rootfs") + 1] == "/host"
    assert not cfg.exporter.collectors.filesystem_mount_points_include  # /host/... would never match
    for name, service in services.items():  # published ports stay on loopback unless asked
        for port in service.get("ports", []):
            assert port.startswith("${TRADEWATCH_BIND:-127.0.0.1}:"), f"{name}: {port}"


def test_prometheus_targets_are_the_services(compose: dict[str, Any]) -> None:
    prom = compose["services"]["prometheus"]
    cfg = yaml.safe_load(_mounted_file(prom, "/etc/prometheus/prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in cfg["scrape_configs"]}
    reached = {}
    for job_name, job in jobs.items():
        groups = list(job.get("static_configs", []))
        for sd in job.get("file_sd_configs", []):
            for rel in sd["files"]:  # relative to prometheus.yml's folder in the container
                groups += yaml.safe_load(_mounted_file(prom, str(Path("/etc/prometheus") / rel)).read_text())
        for group in groups:
            for target in group["targets"]:
                reached[job_name] = _assert_reaches(compose, "prometheus", target)
    assert reached == {"exporter": "exporter", "bridge": "bridge",
                       "prometheus": "prometheus", "alertmanager": "alertmanager"}
    demo = jobs["trading-bot"]["dns_sd_configs"][0]
    assert demo["names"] == ["demo-bot"] and demo["port"] == _listen_port(compose["services"]["demo-bot"])
    for am in cfg["alerting"]["alertmanagers"]:
        for target in am["static_configs"][0]["targets"]:
            assert _assert_reaches(compose, "prometheus", target) == "alertmanager"
    # the rule files Prometheus loads are the repository's committed rules
    rules_dir = Path("/etc/prometheus") / Path(cfg["rule_files"][0]).parent
    assert list(_mounted_file(prom, str(rules_dir)).glob("*.yml"))
    assert "--config.file=/etc/prometheus/prometheus.yml" in prom["command"]
    # the flags the compose config implies (retention, the Watchdog's resend delay)
    from tradewatch.rules import prometheus_flags

    for flag in prometheus_flags(load_config(REPO / "deploy" / "compose" / "tradewatch.yaml", env={})):
        assert flag in prom["command"], flag


def test_alertmanager_posts_to_the_bridge_with_the_token_secret(compose: dict[str, Any]) -> None:
    am = compose["services"]["alertmanager"]
    cfg = yaml.safe_load(_mounted_file(am, "/etc/alertmanager/alertmanager.yml").read_text())
    hooks = [h for r in cfg["receivers"] for h in r.get("webhook_configs", [])]
    assert hooks
    for hook in hooks:
        assert _assert_reaches(compose, "alertmanager", hook["url"]) == "bridge"
        assert urlparse(hook["url"]).path == "/api/monitoring/webhook"
        assert hook["send_resolved"] is True
        creds = hook["http_config"]["authorization"]["credentials_file"]
        secret = Path(creds).name
        assert creds == f"/run/secrets/{secret}" and secret in am["secrets"]
        # the secret is the very token the bridge is given
        assert compose["secrets"][secret] == {"environment": "TRADEWATCH_API_TOKEN"}
        assert "TRADEWATCH_API_TOKEN" in compose["services"]["bridge"]["environment"]


def test_bridge_config_points_at_the_services(compose: dict[str, Any]) -> None:
    bridge = compose["services"]["bridge"]
    path = _mounted_file(bridge, "/etc/tradewatch/tradewatch.yaml")
    cfg = load_config(path, env={"TRADEWATCH_API_TOKEN": "t0ken"})
    assert cfg.bridge.api_token == "t0ken"
    assert _assert_reaches(compose, "bridge", cfg.bridge.prometheus_url) == "prometheus"
    assert _assert_reaches(compose, "bridge", cfg.bridge.alertmanager_url) == "alertmanager"
    assert _assert_reaches(compose, "bridge", cfg.bridge.exporter_url) == "exporter"
    assert cfg.bridge.listen == f"0.0.0.0:{_listen_port(bridge)}"
    assert f":{_listen_port(bridge)}" in bridge["ports"][0]
    data_dir = next(dst for dst, src in _mounts(bridge).items() if src == "bridge-data")
    assert cfg.bridge.database.parent == Path(data_dir)  # SQLite lives on the named volume
    assert cfg.bridge.outbox_dir.is_relative_to(data_dir)
    # SMTP settings come from .env; the mail catcher of the dev profile is reachable by name
    cfg = load_config(path, env={"TRADEWATCH_API_TOKEN": "t", "SMTP_SERVER": "mailpit",
                                 "SMTP_PORT": "1025", "SMTP_SECURITY": "none"})
    assert (cfg.email.smtp_server, cfg.email.smtp_port, cfg.email.security) == ("mailpit", 1025, "none")
    assert "mailpit" in compose["services"]


def test_grafana_provisioning_uses_the_prometheus_service(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    prov = _mounted_file(grafana, "/etc/grafana/provisioning")
    ds = yaml.safe_load((prov / "datasources" / "prometheus.yml").read_text())
    for source in ds["datasources"]:
        assert _assert_reaches(compose, "grafana", source["url"]) == "prometheus"
    providers = yaml.safe_load(next((prov / "dashboards").glob("*.yml")).read_text())["providers"]
    dash_dir = providers[0]["options"]["path"]
    host_dir = _mounted_file(grafana, dash_dir)
    assert list(host_dir.glob("*.json")), f"no dashboards in {host_dir}"


def test_rendered_compose_files_are_current() -> None:
    res = subprocess.run([sys.executable, "-m", "tradewatch.cli", "generate", "--check", "--only", "compose"],
                         capture_output=True, text=True, timeout=60, cwd=REPO)
    assert res.returncode == 0, res.stdout + res.stderr


def test_mounted_configs_pass_promtool_and_amtool(compose: dict[str, Any], tmp_path: Path) -> None:
    services = compose["services"]
    # the container's /etc/prometheus, assembled from the mounts
    for dst, src in _mounts(services["prometheus"]).items():
        if dst.startswith("/etc/prometheus/"):
            target = tmp_path / Path(dst).relative_to("/etc/prometheus")
            if (REPO / src).is_dir():
                shutil.copytree(REPO / src, target)
            else:
                shutil.copy(REPO / src, target)
    assert list((tmp_path / "rules").glob("*.yml"))
    am_text = _mounted_file(services["alertmanager"], "/etc/alertmanager/alertmanager.yml").read_text()
    (tmp_path / "api_token").write_text("t")
    (tmp_path / "alertmanager.yml").write_text(am_text.replace("/run/secrets/api_token",
                                                               str(tmp_path / "api_token")))
    promtool = shutil.which("promtool")
    amtool = shutil.which("amtool")
    if not (promtool and amtool):
        pytest.fail("promtool/amtool missing: run the tests through tests/run.sh")
    res = subprocess.run([promtool, "check", "config", str(tmp_path / "prometheus.yml")],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    res = subprocess.run([amtool, "check-config", str(tmp_path / "alertmanager.yml")],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr


def test_dockerfile_multi_stage_non_root_healthchecked(compose: dict[str, Any]) -> None:
    text = DOCKERFILE.read_text()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")]
    froms = [ln for ln in lines if ln.upper().startswith("FROM ")]
    assert len(froms) >= 2, "not multi-stage"
    for ln in froms:
        image = ln.split()[1]
        assert ":" in image and not image.endswith(":latest"), f"unpinned base image: {ln}"
    users = [ln.split()[1] for ln in lines if ln.upper().startswith("USER ")]
    assert users and users[-1].split(":")[0] not in ("root", "0"), "the image runs as root"
    assert any(ln.upper().startswith("HEALTHCHECK ") for ln in lines)
    assert "HEALTHCHECK_URL" in text
    for ln in lines:  # every COPY source from the build context exists
        if ln.upper().startswith("COPY ") and "--from=" not in ln:
            for src in ln.split()[1:-1]:
                assert (REPO / src).exists(), f"COPY source {src} missing"
    # the build context filter lets every COPY source through
    ignore = (REPO / "deploy" / "Dockerfile.dockerignore").read_text().splitlines()
    allowed = {ln[1:].rstrip("/") for ln in ignore if ln.startswith("!")}
    for ln in lines:
        if ln.upper().startswith("COPY ") and "--from=" not in ln:
            for src in ln.split()[1:-1]:
                assert src.rstrip("/") in allowed, f"{src} is excluded from the build context"
    # each of our services says which URL the image's HEALTHCHECK probes, on its own port
    for name in ("exporter", "bridge", "demo-bot"):
        service = compose["services"][name]
        url = service["environment"]["HEALTHCHECK_URL"]
        assert urlparse(url).port == _listen_port(service), name
    for name in ("prometheus", "alertmanager", "grafana", "mailpit"):
        assert compose["services"][name]["healthcheck"]["test"][0] == "CMD"
