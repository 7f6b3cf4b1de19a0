"""`tradewatch-bridge --listen HOST:PORT --config FILE`: the bridge under waitress, with its workers."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from alert_bridge import logs
from alert_bridge.web.auth import host_is_loopback
from tradewatch.config import ConfigError, default_config_path, load_config

log = logging.getLogger("alert_bridge.cli")


def parse_listen(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"--listen must be HOST:PORT (got {value!r})")
    return host.strip("[]"), int(port)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="tradewatch-bridge",
        description="Serve the TradeWatch alert bridge (webhook, API, dashboard) with waitress and run its "
        "background workers (email outbox, emergency repeats, watchdog, retention, daily report) "
        "once per deployment.",
    )
    p.add_argument(
        "--listen",
        metavar="HOST:PORT",
        type=parse_listen,
        default=None,
        help="address to listen on (default: bridge.listen from the config, 127.0.0.1:8080)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="config file (default: $TRADEWATCH_CONFIG, else ./tradewatch.yaml, else the example)",
    )
    p.add_argument("--threads", type=int, default=8, help="waitress worker threads (default 8)")
    p.add_argument(
        "--no-workers",
        action="store_true",
        help="serve HTTP only; another process runs the background workers",
    )
    p.add_argument(
        "--workers-inline",
        action="store_true",
        help="run the background workers as threads of this process instead of a child process",
    )
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p


def json_server_errors(max_body_bytes: int) -> None:
    """Make the errors waitress answers by itself (a body over its size limit, a malformed
    request line) use the bridge's JSON error shape, like everything Flask answers."""
    import json

    from waitress import utilities

    def to_response(self: utilities.Error, ident: str | None = None) -> tuple[str, list, bytes]:
        if self.code == 413:
            error = {"error": "request body too large",
                     "detail": f"the limit is {max_body_bytes} bytes (bridge.max_body_bytes)"}
        else:
            error = {"error": self.reason.lower(), "detail": str(self.body)}
        body = json.dumps(error).encode()
        return f"{self.code} {self.reason}", [("Content-Type", "application/json")], body

    utilities.Error.to_response = to_response  # type: ignore[method-assign]


def _fail(message: str) -> int:
    print(f"tradewatch-bridge: {message}", file=sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.configure(args.log_level, "%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        return _fail(f"invalid configuration\n{exc}")
    if args.listen is None:
        try:
            args.listen = parse_listen(config.bridge.listen)
        except argparse.ArgumentTypeError as exc:
            return _fail(f"bridge.listen: {exc}")
    host, port = args.listen
    # behind a reverse proxy the bridge serves the network even though it listens on loopback
    beyond = (f"listen on {host}:{port}" if not host_is_loopback(host)
              else "serve clients of security.trusted_proxies" if config.security.trusted_proxies else None)
    if beyond and not config.bridge.api_token:
        return _fail(
            f"refusing to {beyond} without an API token: set bridge.api_token "
            "(e.g. api_token: ${TRADEWATCH_API_TOKEN})"
            + (" or listen on 127.0.0.1" if not host_is_loopback(host) else "")
        )

    if beyond:
        from alert_bridge.web.token_strength import password_problem, token_problem

        weak = [("bridge.api_token", token_problem(config.bridge.api_token))]
        if config.bridge.dashboard_password:
            weak.append(("bridge.dashboard_password", password_problem(config.bridge.dashboard_password)))
        for key, problem in weak:
            if problem:
                source = args.config or default_config_path()
                return _fail(f"{source}: {key} is too weak to {beyond}: {problem}")

    json_server_errors(config.bridge.max_body_bytes)
    # the address really listened on: an unset bridge.external_url is derived from it
    config = config.model_copy(update={"bridge": config.bridge.model_copy(
        update={"listen": f"[{host}]:{port}" if ":" in host else f"{host}:{port}"})})

    from alert_bridge.store.database import StoreNotWritable, open_store
    from alert_bridge.web.app import create_app
    from alert_bridge.web.server import create_server

    try:
        db, applied = open_store(config)
    except StoreNotWritable as exc:
        return _fail(str(exc))
    if applied:
        log.info("database %s: applied migrations %s", config.bridge.database, ", ".join(applied))
    child = None
    if args.no_workers or args.workers_inline:
        app = create_app(config, start_workers=args.workers_inline, db=db)
    else:
        from alert_bridge.jobs.process import RemoteWakeSender, WorkerProcess
        from alert_bridge.notify.sender import OutboxSender

        child = WorkerProcess(args.config, args.log_level)
        sender = RemoteWakeSender(OutboxSender(config, db), child.wake)
        app = create_app(config, start_workers=False, db=db, sender=sender)
    server = create_server(
        app, host, port, threads=args.threads, max_request_body_size=config.bridge.max_body_bytes + 65536
    )
    if child is not None:
        child.start()  # only once the address is bound: a failed start leaves no orphan
    stopping = threading.Event()

    def _terminate(signum: int, frame: FrameType | None) -> None:
        if not stopping.is_set():
            stopping.set()
            log.info("signal %s: shutting down", signal.Signals(signum).name)
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    log.info("tradewatch-bridge listening on http://%s:%d/", host, port)
    try:
        server.run()
    except SystemExit:
        pass
    finally:
        server.close()
        state = app.extensions["tradewatch"]
        if state.workers is not None:
            state.workers.stop()
        if child is not None:
            child.stop()
        db.close()
        log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
