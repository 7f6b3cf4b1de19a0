"""The local stack without Docker: exporter, bridge, Prometheus and Alertmanager on 127.0.0.1.

`bash deploy/run-stack.sh` installs what is missing and hands over to this supervisor
(`python -m tradewatch.stack`, also `tradewatch stack`). It writes a working config on first
start, renders Prometheus's and Alertmanager's configs and the rules, starts every part in its
own session with its log under the stack folder, waits (bounded) until each answers its health
check, prints where everything is, restarts a part that dies, and on Ctrl-C / SIGTERM stops all
of them. Each part's pid file (pid + start time, so a recycled pid is never mistaken for it)
lets `status` and `stop` work from another terminal.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psutil

from tradewatch.config import Config, ConfigError, load_config
from tradewatch.extras import require
from tradewatch.operator_command import stack_command, tradewatch_command
from tradewatch.paths import CHECKOUT, default_home
from tradewatch.stack_env import read_env_file
from tradewatch.stack_layout import (
    DEFAULT_DIR,
    HOST,
    PORTS,
    Layout,
    Ports,
    ensure_config,
    ensure_token,
    render_stack_configs,
    stack_environment,
    webhook_credentials_file,
)

HELP = ("run the local stack (exporter, bridge, Prometheus, Alertmanager) in the foreground, "
        "or show its status / stop it")
SUPERVISOR = "supervisor"
EXIT_NOT_RUNNING = 3  # like `systemctl status`: some part is not running


@dataclass
class Part:
    """One process of the stack: how to start it and how to tell it is healthy."""

    name: str
    title: str
    args: list[str]
    health_url: str
    url: str
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    next_start: float = 0.0


@dataclass
class Options:
    layout: Layout
    ports: Ports
    demo: bool = False
    config: Path | None = None
    env_file: Path = field(default_factory=lambda: default_home() / ".env")
    timeout: float = 90.0
    out: Callable[[str], None] = field(default=print)


# --------------------------------------------------------------------------- programs

def _program(*names: str) -> str | None:
    venv_bin = Path(sys.executable).parent
    for name in names:
        if (venv_bin / name).exists():
            return str(venv_bin / name)
        found = shutil.which(name)
        if found:
            return found
    return None


def missing_programs() -> list[str]:
    """What the stack needs and cannot find on PATH, phrased for the operator."""
    missing = []
    if not _program("prometheus"):
        missing.append("prometheus (Debian package `prometheus`)")
    if not _program("prometheus-alertmanager", "alertmanager"):
        missing.append("alertmanager (Debian package `prometheus-alertmanager`)")
    return missing


def build_parts(opts: Options, cfg: Config, config_path: Path, prom_yml: Path, am_yml: Path) -> list[Part]:
    from tradewatch.rules.render import prometheus_flags  # as render_stack_configs does

    p, lay = opts.ports, opts.layout
    py = sys.executable
    exporter = _program("tradewatch-exporter")
    bridge = _program("tradewatch-bridge")
    parts = [
        Part("alertmanager", "Alertmanager",
             [_program("prometheus-alertmanager", "alertmanager") or "alertmanager",
              f"--config.file={am_yml}", f"--storage.path={lay.alertmanager / 'data'}",
              f"--web.listen-address={HOST}:{p.alertmanager}", "--cluster.listen-address=",
              f"--web.external-url=http://{HOST}:{p.alertmanager}/"],
             f"http://{HOST}:{p.alertmanager}/-/ready", f"http://{HOST}:{p.alertmanager}/"),
        Part("prometheus", "Prometheus",
             [_program("prometheus") or "prometheus", f"--config.file={prom_yml}",
              f"--storage.tsdb.path={lay.prometheus / 'data'}", *prometheus_flags(cfg),
              f"--web.listen-address={HOST}:{p.prometheus}", "--web.enable-lifecycle",
              f"--web.external-url=http://{HOST}:{p.prometheus}/"],
             f"http://{HOST}:{p.prometheus}/-/ready", f"http://{HOST}:{p.prometheus}/"),
        Part("exporter", "metrics",
             [*([exporter] if exporter else [py, "-m", "exporter.cli"]),
              "--listen", f"{HOST}:{p.exporter}", "--config", str(config_path)],
             f"http://{HOST}:{p.exporter}/metrics", f"http://{HOST}:{p.exporter}/metrics"),
        Part("bridge", "dashboard",
             [*([bridge] if bridge else [py, "-m", "alert_bridge.cli"]),
              "--listen", f"{HOST}:{p.bridge}", "--config", str(config_path)],
             f"http://{HOST}:{p.bridge}/health", f"http://{HOST}:{p.bridge}/"),
    ]
    if opts.demo:
        parts.append(Part("demo_bot", "demo bot",
                          [py, "-m", "exporter.demo_bot", "--listen", f"{HOST}:{p.demo_bot}"],
                          f"http://{HOST}:{p.demo_bot}/metrics", f"http://{HOST}:{p.demo_bot}/metrics"))
    return parts


# --------------------------------------------------------------------------- small I/O edges

def healthy(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return 200 <= resp.status < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def page_text(url: str, timeout: float = 2.0) -> str | None:
    """The body of a page that answers 2xx, else None."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            return resp.read(65536).decode("utf-8", "replace") if 200 <= resp.status < 300 else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


# Prometheus's alerts page: the current UI's, else the classic one (Debian's 2.42 serves only
# /classic/*: its /alerts is a 404)
PROMETHEUS_ALERT_PAGES = ("alerts", "classic/alerts")
# what Debian's Alertmanager answers at / instead of a web application
NO_AM_UI = "does not include a web application"


def prometheus_link(base: str, fetch: Callable[[str], str | None] = page_text) -> str:
    """The first of Prometheus's alert pages that answers (base itself when none does)."""
    for path in PROMETHEUS_ALERT_PAGES:
        if fetch(base + path) is not None:
            return base + path
    return base


def alertmanager_link(base: str, fetch: Callable[[str], str | None] = page_text) -> str:
    """Alertmanager's web UI, or (Debian's package ships none) its API with a pointer to the
    dashboard's silences and alert history."""
    body = fetch(base)
    if body is not None and NO_AM_UI not in body:
        return base
    return f"{base}api/v2/alerts (API only, no web UI in this build: see silences and alert history)"


def port_in_use(port: int, host: str = HOST) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def write_pid(path: Path, pid: int, **info: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        created = psutil.Process(pid).create_time()
    except psutil.Error:
        created = 0.0
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"pid": pid, "create_time": created, **info}), encoding="utf-8")
    os.replace(tmp, path)


def read_pid(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("pid"), int) else None


def pid_alive(info: dict[str, Any] | None) -> bool:
    """The recorded process still runs (same pid AND same start time: not a recycled pid)."""
    if not info:
        return False
    try:
        proc = psutil.Process(info["pid"])
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return abs(proc.create_time() - float(info.get("create_time") or 0)) < 0.05
    except psutil.Error:
        return False


def _die_with_parent() -> None:
    """In the child: get SIGTERM if the supervisor is killed outright (Linux), so nothing is orphaned."""
    os.setsid()
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _tail(path: Path, lines: int = 25) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join("    " + line for line in text.splitlines()[-lines:])


# --------------------------------------------------------------------------- the supervisor

RELOADED_PARTS = ("exporter", "bridge")  # the parts that read the config and .env


class Supervisor:
    def __init__(self, opts: Options, parts: list[Part], env: dict[str, str],
                 reconfigure: Callable[[], dict[str, str]] | None = None):
        self.opts, self.parts, self.env = opts, parts, env
        self.reconfigure = reconfigure
        self.stopping = threading.Event()
        self.reload_requested = threading.Event()

    def reload(self) -> None:
        """Re-read .env and the config, re-render Prometheus's and Alertmanager's files and reload
        them, and restart the exporter and the bridge with the new environment. A config that does
        not load is refused and everything keeps running as it was. The outcome goes to the
        terminal and to run/reload.json (which `stack reload` waits for)."""
        lay = self.opts.layout
        try:
            env = self.reconfigure() if self.reconfigure else self.env
        except (ConfigError, ValueError) as exc:
            _write_reload(lay, False, f"not reloaded, the stack keeps running as it was: {exc}")
            self.opts.out(f"tradewatch: reload refused, the stack keeps running as it was:\n{exc}")
            return
        self.env = env
        for part in self.parts:
            if part.name in RELOADED_PARTS:
                self.stop_part(part)
                self.start(part)
        for name in ("prometheus", "alertmanager"):
            url = next((p.url for p in self.parts if p.name == name), None)
            if url:
                with contextlib.suppress(urllib.error.URLError, OSError):
                    req = urllib.request.Request(url + "-/reload", method="POST")
                    urllib.request.urlopen(req, timeout=10).close()
        failed = self.wait_healthy()
        detail = (f"{failed.name} is not healthy after the reload (log: {lay.log_file(failed.name)})"
                  if failed
                  else f"restarted {' and '.join(RELOADED_PARTS)} with the new settings")
        _write_reload(lay, failed is None, detail)
        self.opts.out(f"tradewatch: reloaded .env and {lay.config.name}: {detail}")

    def stop_part(self, part: Part, grace: float = 15.0) -> None:
        if part.process is None or part.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(part.process.pid, signal.SIGTERM)
        try:
            part.process.wait(grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(part.process.pid, signal.SIGKILL)
            part.process.wait(5)

    def start(self, part: Part) -> None:
        lay = self.opts.layout
        lay.logs.mkdir(parents=True, exist_ok=True)
        if part.log is None or part.log.closed:
            part.log = open(lay.log_file(part.name), "ab")  # noqa: SIM115 - closed in stop_all()
        part.log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} starting {part.name}\n".encode())
        part.log.flush()
        part.process = subprocess.Popen(
            part.args, stdin=subprocess.DEVNULL, stdout=part.log, stderr=subprocess.STDOUT,
            env=self.env, cwd=lay.root, preexec_fn=_die_with_parent,
        )
        part.started_at = time.monotonic()
        write_pid(lay.pid_file(part.name), part.process.pid, url=part.url, health=part.health_url,
                  title=part.title)

    def wait_healthy(self) -> Part | None:
        """Block until every part answers its health check; returns the part that failed, if any."""
        deadline = time.monotonic() + self.opts.timeout
        pending = list(self.parts)
        while pending and not self.stopping.is_set():
            for part in list(pending):
                if part.process is not None and part.process.poll() is not None:
                    return part
                if healthy(part.health_url, timeout=1.0):
                    pending.remove(part)
            if not pending:
                break
            if time.monotonic() > deadline:
                return pending[0]
            self.stopping.wait(0.2)
        return None

    def watch(self) -> None:
        """Restart a part that exits, with backoff (1 s doubling to 30 s; reset after 60 s up)."""
        while not self.stopping.wait(1.0):
            if self.reload_requested.is_set():
                self.reload_requested.clear()
                self.reload()
            now = time.monotonic()
            for part in self.parts:
                if part.process is None or part.process.poll() is None:
                    if part.process is not None and now - part.started_at > 60:
                        part.restarts = 0
                    continue
                if part.next_start == 0.0:
                    delay = min(30.0, 2.0 ** part.restarts)
                    self.opts.out(f"tradewatch: {part.name} exited with status {part.process.returncode}; "
                                  f"restarting in {delay:g} s (log: {self.opts.layout.log_file(part.name)})")
                    part.next_start = now + delay
                elif now >= part.next_start:
                    part.restarts += 1
                    part.next_start = 0.0
                    self.start(part)

    def stop_all(self, grace: float = 15.0) -> None:
        running = [p for p in self.parts if p.process is not None and p.process.poll() is None]
        for part in running:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(part.process.pid, signal.SIGTERM)  # type: ignore[union-attr]
        deadline = time.monotonic() + grace
        for part in running:
            assert part.process is not None
            try:
                part.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.opts.out(f"tradewatch: {part.name} did not stop within {grace:g} s; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(part.process.pid, signal.SIGKILL)
                part.process.wait(5)
        for part in self.parts:
            # the session may hold helpers the part started; none may outlive the stack
            if part.process is not None:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(part.process.pid, signal.SIGKILL)
            if part.log is not None and not part.log.closed:
                part.log.close()
            self.opts.layout.pid_file(part.name).unlink(missing_ok=True)


def stack_env(opts: Options, token: str) -> dict[str, str]:
    """The children's environment: .env values under the real environment, plus ports and token."""
    env = stack_environment(opts.layout, opts.env_file, os.environ, ports=opts.ports, token=token).values
    env["PYTHONUNBUFFERED"] = "1"
    return env


def email_destination(cfg: Config, layout: Layout) -> str:
    to = ", ".join(cfg.email.to) or "(no recipients: set ALERT_EMAIL)"
    if not cfg.email.smtp_server:
        return (f"written as .eml files to {cfg.bridge.outbox_dir} "
                "(file sink; the email setup command below sends real email)")
    return f"sent through {cfg.email.smtp_server}:{cfg.email.smtp_port} ({cfg.email.security}) to {to}"


def up(opts: Options) -> int:
    out, lay = opts.out, opts.layout
    sup_info = read_pid(lay.pid_file(SUPERVISOR))
    if pid_alive(sup_info):
        out(f"tradewatch: the stack in {lay.root} is already running (pid {sup_info['pid']}); "  # type: ignore[index]
            f"see `{stack_command('status', layout=lay)}`, or `stop` it first")
        return 1
    missing = missing_programs()
    if missing:
        out("tradewatch: cannot start the stack; missing: " + "; ".join(missing)
            + (". On Debian, `bash deploy/run-stack.sh` installs them (as root or with sudo)." if CHECKOUT
               else ". On Debian: `sudo apt-get install prometheus prometheus-alertmanager`."))
        return 1
    if opts.config is None and ensure_config(lay):
        out(f"tradewatch: wrote a local config to {lay.config} (edit it, then "
            f"`{stack_command('reload', layout=lay)}` applies it)")
    config_path = opts.config or lay.config
    token, created = ensure_token(lay)
    if created:
        out(f"tradewatch: generated an API token in {lay.token_file} (mode 0600)")
    try:
        env = stack_env(opts, token)
    except ValueError as exc:
        out(f"tradewatch: {exc}")
        return 2
    try:
        cfg = load_config(config_path, env=env)
    except ConfigError as exc:
        out(f"tradewatch: invalid configuration\n{exc}")
        return 2
    env["TRADEWATCH_CONFIG"] = str(config_path)
    _warn_mismatch(cfg, opts)
    creds = webhook_credentials_file(lay, cfg, token)
    prom_yml, am_yml = render_stack_configs(lay, cfg, opts.ports, demo=opts.demo, credentials_file=creds)
    parts = build_parts(opts, cfg, config_path, prom_yml, am_yml)
    busy = [f"{p.name} port {getattr(opts.ports, p.name)}" for p in parts
            if port_in_use(getattr(opts.ports, p.name))]
    if busy:
        out("tradewatch: ports already in use: " + ", ".join(busy)
            + ". Stop what holds them (Debian's own services: `systemctl disable --now prometheus "
            "prometheus-alertmanager`) or choose other ports (--<part>-port, or TRADEWATCH_<PART>_PORT).")
        return 1

    def reconfigure() -> dict[str, str]:
        new_env = stack_env(opts, token)
        new_cfg = load_config(config_path, env=new_env)
        new_env["TRADEWATCH_CONFIG"] = str(config_path)
        render_stack_configs(lay, new_cfg, opts.ports, demo=opts.demo,
                             credentials_file=webhook_credentials_file(lay, new_cfg, token))
        return new_env

    sup = Supervisor(opts, parts, env, reconfigure)
    previous = {s: signal.signal(s, lambda *_: sup.stopping.set())
                for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    previous[signal.SIGUSR1] = signal.signal(signal.SIGUSR1, lambda *_: sup.reload_requested.set())
    write_pid(lay.pid_file(SUPERVISOR), os.getpid(), url="", health="", title="supervisor",
              config=str(config_path), env_file=str(opts.env_file.resolve()))
    started = time.monotonic()
    try:
        for part in parts:
            sup.start(part)
        out(f"tradewatch: starting {', '.join(p.name for p in parts)} (logs in {lay.logs}) ...")
        failed = sup.wait_healthy()
        if sup.stopping.is_set():
            out("tradewatch: interrupted during start-up; stopping")
            return 130
        if failed is not None:
            why = "exited" if failed.process and failed.process.poll() is not None else "is not healthy"
            out(f"tradewatch: {failed.name} {why} within {opts.timeout:g} s "
                f"({failed.health_url}); last lines of {lay.log_file(failed.name)}:\n"
                f"{_tail(lay.log_file(failed.name))}")
            return 1
        out(banner(opts, cfg, parts, config_path, time.monotonic() - started))
        sup.watch()
        out("tradewatch: stopping the stack ...")
        return 0
    finally:
        sup.stop_all()
        lay.pid_file(SUPERVISOR).unlink(missing_ok=True)
        for s, handler in previous.items():
            signal.signal(s, handler)
        out("tradewatch: stopped")


def _warn_mismatch(cfg: Config, opts: Options) -> None:
    """A user-supplied config pointing the bridge at other ports gets a clear warning."""
    p = opts.ports
    for key, want in (("prometheus_url", p.prometheus), ("alertmanager_url", p.alertmanager)):
        url = getattr(cfg.bridge, key)
        if url and not url.endswith(f":{want}"):
            opts.out(f"tradewatch: warning: bridge.{key} is {url}, but the stack runs it on port {want}")


def token_source(cfg: Config, layout: Layout) -> str:
    """Where the bridge's token comes from (never the token itself)."""
    if not cfg.bridge.api_token:
        return "none configured (the bridge only listens on loopback)"
    try:
        if layout.token_file.read_text(encoding="utf-8").strip() == cfg.bridge.api_token:
            return f"{layout.token_file} (mode 0600)"
    except OSError:
        pass
    return "TRADEWATCH_API_TOKEN from the environment or .env (or set in the config)"


def banner(opts: Options, cfg: Config, parts: list[Part], config_path: Path, took: float) -> str:
    rows = [(p.title, p.url) for p in parts if p.name not in ("alertmanager", "prometheus")]
    dashboard = f"http://{HOST}:{opts.ports.bridge}/"
    rows[1:1] = [("silences", f"{dashboard}#silences"), ("alert history", f"{dashboard}history"),
                 ("Prometheus", prometheus_link(f"http://{HOST}:{opts.ports.prometheus}/")),
                 ("Alertmanager", alertmanager_link(f"http://{HOST}:{opts.ports.alertmanager}/"))]
    order = {"dashboard": 0, "silences": 1, "alert history": 2, "Prometheus": 3, "Alertmanager": 4,
             "metrics": 5, "demo bot": 6}
    rows.sort(key=lambda r: order.get(r[0], 9))
    lines = [f"TradeWatch is up ({took:.1f} s). Ctrl-C stops everything.", ""]
    lines += [f"  {title:<13} {url}" for title, url in rows]
    lines += [
        "",
        f"  {'emails':<13} {email_destination(cfg, opts.layout)}",
        f"  {'config':<13} {config_path}",
        f"  {'API token':<13} {token_source(cfg, opts.layout)}",
        f"  {'data, logs':<13} {opts.layout.root}",
        "",
        *(f"  {title:<13} {command}" for title, command in banner_commands(opts, config_path)),
    ]
    return "\n".join(lines)


def banner_commands(opts: Options, config_path: Path) -> list[tuple[str, str]]:
    """What the operator does next, each a command to paste as printed (tests run every one)."""
    lay = opts.layout
    env_file = ""
    if opts.env_file.resolve() != (default_home() / ".env").resolve():
        env_file = f" --env-file {shlex.quote(str(opts.env_file))}"
    setup = "setup"
    if config_path != lay.config:
        setup += f" --config {shlex.quote(str(config_path))}"
    if lay.root != DEFAULT_DIR.resolve():
        setup += f" --stack-dir {shlex.quote(str(lay.root))}"
    return [("status", stack_command("status", layout=lay)),
            ("stop", stack_command("stop", layout=lay)),
            ("apply edits", stack_command("reload", layout=lay)),
            ("test email", stack_command("test-email", layout=lay) + env_file),
            ("email setup", tradewatch_command(setup + env_file))]


# --------------------------------------------------------------------------- status / stop

def part_names() -> list[str]:
    return [SUPERVISOR, "alertmanager", "prometheus", "exporter", "bridge", "demo_bot"]


def status(layout: Layout, out: Callable[[str], None] = print) -> int:
    """One line per part: up / unhealthy / down, from pid files and health checks."""
    rows, all_up, any_known = [], True, False
    for name in part_names():
        info = read_pid(layout.pid_file(name))
        if info is None:
            if name != "demo_bot":
                rows.append((name, "down", "-", ""))
                all_up = False
            continue
        any_known = True
        alive = pid_alive(info)
        if not alive:
            state = "down (stale pid file)"
        elif info.get("health") and not healthy(info["health"]):
            state = "unhealthy"
        else:
            state = "up"
        all_up = all_up and state == "up"
        rows.append((name, state, str(info["pid"]), info.get("url", "")))
    out(f"TradeWatch stack in {layout.root}:" + ("" if any_known else " not running"))
    for name, state, pid, url in rows:
        out(f"  {name:<13} {state:<22} pid {pid:<8} {url}".rstrip())
    return 0 if all_up else EXIT_NOT_RUNNING


def stop(layout: Layout, out: Callable[[str], None] = print, timeout: float = 30.0) -> int:
    """SIGTERM the supervisor (it stops its parts); clean up parts left by a killed supervisor."""
    sup = read_pid(layout.pid_file(SUPERVISOR))
    if pid_alive(sup):
        assert sup is not None
        out(f"tradewatch: stopping the stack (supervisor pid {sup['pid']}) ...")
        os.kill(sup["pid"], signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(sup) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(sup):
            out("tradewatch: the supervisor did not stop in time; stopping its parts directly")
    leftovers = 0
    for name in part_names()[1:]:
        info = read_pid(layout.pid_file(name))
        if pid_alive(info):
            assert info is not None
            leftovers += 1
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(info["pid"], signal.SIGTERM)
            with contextlib.suppress(psutil.Error):
                psutil.Process(info["pid"]).wait(15)
            if pid_alive(info):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(info["pid"], signal.SIGKILL)
        layout.pid_file(name).unlink(missing_ok=True)
    layout.pid_file(SUPERVISOR).unlink(missing_ok=True)
    if sup is None and not leftovers:
        out(f"tradewatch: the stack in {layout.root} is not running")
    else:
        out("tradewatch: stopped")
    return 0


def not_running(layout: Layout) -> str:
    return f"the stack in {layout.root} is not running (start it: `{stack_command(layout=layout)}`)"


def _write_reload(layout: Layout, ok: bool, detail: str) -> None:
    tmp = layout.run / "reload.tmp"
    tmp.write_text(json.dumps({"ok": ok, "detail": detail, "at": time.time()}), encoding="utf-8")
    os.replace(tmp, layout.run / "reload.json")


def request_reload(layout: Layout, timeout: float = 90.0) -> tuple[bool, str]:
    """Ask the running supervisor to reload (SIGUSR1) and wait for its answer (bounded)."""
    sup = read_pid(layout.pid_file(SUPERVISOR))
    if not pid_alive(sup):
        return False, not_running(layout)
    assert sup is not None
    result = layout.run / "reload.json"
    result.unlink(missing_ok=True)
    os.kill(sup["pid"], signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(sup):
        try:
            answer = json.loads(result.read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            time.sleep(0.2)
            continue
        return bool(answer.get("ok")), str(answer.get("detail"))
    return False, f"the supervisor (pid {sup['pid']}) did not answer within {timeout:g} s; see its terminal"


def reload(layout: Layout, out: Callable[[str], None] = print) -> int:
    ok, detail = request_reload(layout)
    out(f"tradewatch: {detail}")
    return 0 if ok else 1


def test_email(layout: Layout, env_file: Path, out: Callable[[str], None] = print) -> int:
    """POST /api/monitoring/send-test-email to the running bridge with the stack's token."""
    info = read_pid(layout.pid_file("bridge"))
    if not pid_alive(info):
        out(f"tradewatch: {not_running(layout)}")
        return EXIT_NOT_RUNNING
    assert info is not None
    token = os.environ.get("TRADEWATCH_API_TOKEN") or read_env_file(env_file).get("TRADEWATCH_API_TOKEN")
    if not token:
        try:
            token = layout.token_file.read_text(encoding="utf-8").strip()
        except OSError:
            token = ""
    req = urllib.request.Request(
        info["url"].rstrip("/") + "/api/monitoring/send-test-email", data=b"{}", method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            body = json.load(resp)
    except urllib.error.HTTPError as exc:
        try:
            detail = json.load(exc)
        except ValueError:
            detail = {"error": exc.reason}
        out(f"tradewatch: test email NOT delivered ({exc.code}): {detail.get('error')}: "
            f"{json.dumps(detail.get('detail'))}")
        return 1
    except (urllib.error.URLError, OSError) as exc:
        out(f"tradewatch: cannot reach the bridge at {info['url']}: {exc}")
        return 1
    out(f"tradewatch: test email {body.get('status')} to {', '.join(body.get('recipients') or [])} "
        f"(notification {body.get('id')}); with the file sink it is an .eml file in bridge.outbox_dir "
        f"({layout.outbox} with the stack's own config)")
    return 0


# --------------------------------------------------------------------------- command line

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", nargs="?", choices=["up", "status", "stop", "reload", "test-email"],
                        default="up", help="up (default): start and supervise in the foreground; status; "
                        "stop; reload: apply changes to .env and the config to the running stack (restarts "
                        "the exporter and the bridge); "
                        "test-email: have the running bridge send a test email and say where it went")
    parser.add_argument("--demo", action="store_true",
                        help="also run the demo trading bot (synthetic trading_* metrics)")
    parser.add_argument("--dir", type=Path, default=None, metavar="DIR",
                        help="stack folder for config, token, data, logs, pid files (default: "
                        "$TRADEWATCH_STACK_DIR or var/stack in the checkout, else in the current folder)")
    parser.add_argument("--env-file", type=Path, default=default_home() / ".env", metavar="FILE",
                        help="KEY=VALUE file read for SMTP settings (default: .env in the checkout, "
                        "else in the current folder); the real environment wins")
    parser.add_argument("--timeout", type=float, default=90.0, metavar="SECONDS",
                        help="how long to wait for every part to become healthy (default 90)")
    for part, (default, var) in PORTS.items():
        parser.add_argument(f"--{part.replace('_', '-')}-port", type=int, default=None, metavar="PORT",
                            dest=f"{part}_port", help=f"{part} port (default ${var} or {default})")


def run(args: argparse.Namespace) -> int:
    root = args.dir or Path(os.environ.get("TRADEWATCH_STACK_DIR") or DEFAULT_DIR)
    layout = Layout(root)
    if args.action == "status":
        return status(layout)
    if args.action == "stop":
        return stop(layout)
    if args.action == "reload":
        return reload(layout)
    if args.action == "test-email":
        return test_email(layout, args.env_file)
    require("bridge", "the local stack (it runs the bridge)")  # say so before starting anything
    try:
        ports = Ports.from_env(os.environ, **{p: getattr(args, f"{p}_port") for p in PORTS})
    except ValueError as exc:
        print(f"tradewatch: {exc}", file=sys.stderr)
        return 2
    config = Path(args.config).resolve() if args.config else None
    if config is not None and not config.exists():
        print(f"tradewatch: {config}: file not found", file=sys.stderr)
        return 2
    opts = Options(layout=layout, ports=ports, demo=args.demo, config=config,
                   env_file=args.env_file, timeout=args.timeout,
                   out=lambda line: print(line, flush=True))
    return up(opts)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tradewatch stack", description=HELP)
    parser.add_argument("--config", metavar="FILE",
                        help="use this config instead of the stack's own (written on first start)")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
