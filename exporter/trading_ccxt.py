"""Exchange-API and order metrics for any ccxt exchange object, without changing the bot's code.

    import ccxt                                   # or ccxt.async_support
    from exporter.trading import TradingMetrics, instrument_ccxt
    m = TradingMetrics()
    exchange = instrument_ccxt(ccxt.binance({...}), m)

Hooks, set on the one exchange object (never on ccxt's classes, so other exchange objects and
other libraries are untouched), at the places every REST call of ccxt goes through
(ccxt/base/exchange.py and ccxt/async_support/base/exchange.py, ccxt 4):

- the unified methods the exchange declares in `exchange.has` (`fetch_ticker`, `create_order`...,
  snake_case and camelCase names): they name the `endpoint` of the requests made inside them
  (the innermost one wins: `create_order` loading markets counts under `fetch_markets`);
- `fetch2(path, api, method, ...)`: a request made outside any unified method (an implicit API
  call such as `publicGetTicker24hr`) is named by its HTTP method and path template
  (`GET public/ticker/24hr`, `DELETE private/order/{id}`): never a URL with ids or symbols, so
  the label stays bounded;
- `fetch(url, method, ...)`: one HTTP attempt (ccxt's own retries count one each), timed, with
  its `code` (HTTP status, 0 when no response came: timeouts, refused connections) read from
  `on_rest_response`, and ccxt's error class counted when it raises (RateLimitExceeded,
  DDoSProtection, RequestTimeout, InsufficientFunds...);
- `create_order` / `cancel_order`: the order counters and the order latency histogram.

The endpoint and status travel in context variables, so threads sharing a sync exchange and
asyncio tasks sharing an async one do not mix their labels. ccxt is not imported here: the
object is duck-typed, and ccxt stays out of the base install.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from exporter.trading import TradingMetrics

E = TypeVar("E")

_ENDPOINT: contextvars.ContextVar[str | None] = contextvars.ContextVar("tw_ccxt_endpoint", default=None)
_STATUS: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("tw_ccxt_status", default=None)
_MARK = "_tradewatch_metrics"
_CCXT_ERRORS_MODULE = "ccxt.base.errors"
# snake_case -> camelCase as ccxt's Exchange.__init__ derives its aliases
_CAMEL_EXCEPTIONS = {"ohlcv": "OHLCV", "le": "LE", "be": "BE", "adl": "ADL"}
# an order the exchange answered "no" to: not placed. Other network errors leave it unknown.
_REJECTING_NETWORK_ERRORS = frozenset({"RateLimitExceeded", "DDoSProtection"})
_ORDER_METHODS = frozenset({"create_order", "cancel_order"})


def camel_case(name: str) -> str:
    """ccxt's alias of a snake_case method: fetch_ohlcv -> fetchOHLCV."""
    head, *rest = name.split("_")
    return head + "".join(_CAMEL_EXCEPTIONS.get(p, p[:1].upper() + p[1:]) for p in rest)


def path_template(method: str, api: Any, path: str) -> str:
    """`GET public/ticker/24hr`: ccxt's path is the template (`order/{id}`), never filled in."""
    if isinstance(api, list | tuple):
        api = "/".join(str(a) for a in api)
    return f"{method} {api}/{path}"


def error_name(exc: BaseException) -> str:
    """ccxt's error class name (a fixed set of ~40), or "other" for anything else."""
    cls = type(exc)
    return cls.__name__ if cls.__module__ == _CCXT_ERRORS_MODULE else "other"


class _Recorder:
    """Per-exchange label children cached by (endpoint, code): a call costs two dict lookups."""

    def __init__(self, metrics: TradingMetrics, exchange_id: str):
        self.m = metrics
        self.exchange = exchange_id
        self._requests: dict[tuple[str, int], Any] = {}
        self._durations: dict[str, Any] = {}

    def request(self, endpoint: str, code: int, seconds: float) -> None:
        child = self._requests.get((endpoint, code))
        if child is None:
            child = self._requests[(endpoint, code)] = self.m.exchange_requests.labels(
                self.exchange, endpoint, str(code))
        child.inc()
        hist = self._durations.get(endpoint)
        if hist is None:
            hist = self._durations[endpoint] = self.m.exchange_duration.labels(self.exchange, endpoint)
        hist.observe(seconds)

    def error(self, endpoint: str, exc: BaseException) -> None:
        self.m.exchange_errors.labels(self.exchange, endpoint, error_name(exc)).inc()

    def order_answered(self, method: str, result: Any, seconds: float) -> None:
        if method == "cancel_order":
            self.m.order_cancelled()
        elif isinstance(result, dict) and result.get("status") == "closed":
            self.m.order_filled(latency_seconds=seconds)
        else:
            self.m.order_latency.observe(seconds)

    def order_failed(self, method: str, exc: BaseException, seconds: float) -> None:
        if method != "create_order":
            return
        mro = {c.__name__ for c in type(exc).__mro__ if c.__module__ == _CCXT_ERRORS_MODULE}
        if "ExchangeError" in mro or mro & _REJECTING_NETWORK_ERRORS:
            self.m.order_rejected(latency_seconds=seconds)


# --------------------------------------------------------------------------- bookkeeping
# Context managers with __slots__, shared by the sync and the async hooks (a plain `with` works
# in a coroutine): the hooks differ only by `await`.

class _Endpoint:
    """Names the requests made inside: a unified method, or a path template when none is set."""

    __slots__ = ("name", "token")

    def __init__(self, name: str | None):
        self.name = name
        self.token: contextvars.Token[str | None] | None = None

    def __enter__(self) -> None:
        if self.name is not None:
            self.token = _ENDPOINT.set(self.name)

    def __exit__(self, *exc: object) -> None:
        if self.token is not None:
            _ENDPOINT.reset(self.token)


class _Attempt:
    """One HTTP attempt: timed, its status read by the on_rest_response hook, its error counted."""

    __slots__ = ("cell", "endpoint", "rec", "start", "token")

    def __init__(self, rec: _Recorder, method: str):
        self.rec = rec
        self.endpoint = _ENDPOINT.get() or f"{method} other"

    def __enter__(self) -> None:
        self.cell = [0]
        self.token = _STATUS.set(self.cell)
        self.start = time.perf_counter()

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        if isinstance(exc, Exception):
            self.rec.error(self.endpoint, exc)
        self.rec.request(self.endpoint, self.cell[0], time.perf_counter() - self.start)
        _STATUS.reset(self.token)


class _OrderCall:
    """create_order / cancel_order: submitted before, the outcome after (set `.result`)."""

    __slots__ = ("name", "rec", "result", "start")

    def __init__(self, rec: _Recorder, name: str):
        self.rec, self.name, self.result = rec, name, None

    def __enter__(self) -> _OrderCall:
        if self.name == "create_order":
            self.rec.m.order_submitted()
        self.start = time.perf_counter()
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        took = time.perf_counter() - self.start
        if exc is None:
            self.rec.order_answered(self.name, self.result, took)
        elif isinstance(exc, Exception):
            self.rec.order_failed(self.name, exc, took)


def _template(api: Any, method: str, path: str) -> str | None:
    """The path template, unless a unified method already names the request."""
    return None if _ENDPOINT.get() is not None else path_template(method, api, path)


# --------------------------------------------------------------------------- sync hooks

def _sync_unified(name: str, fn: Callable[..., Any], rec: _Recorder) -> Callable[..., Any]:
    if name not in _ORDER_METHODS:
        @functools.wraps(fn)
        def unified(*args: Any, **kwargs: Any) -> Any:
            with _Endpoint(name):
                return fn(*args, **kwargs)
        return unified

    @functools.wraps(fn)
    def order(*args: Any, **kwargs: Any) -> Any:
        with _Endpoint(name), _OrderCall(rec, name) as call:
            call.result = fn(*args, **kwargs)
            return call.result
    return order


def _sync_fetch2(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def fetch2(path: str, api: Any = "public", method: str = "GET", *args: Any, **kwargs: Any) -> Any:
        with _Endpoint(_template(api, method, path)):
            return fn(path, api, method, *args, **kwargs)
    return fetch2


def _sync_fetch(fn: Callable[..., Any], rec: _Recorder) -> Callable[..., Any]:
    @functools.wraps(fn)
    def fetch(url: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
        with _Attempt(rec, method):
            return fn(url, method, *args, **kwargs)
    return fetch


# --------------------------------------------------------------------------- async hooks

def _async_unified(name: str, fn: Callable[..., Any], rec: _Recorder) -> Callable[..., Any]:
    if name not in _ORDER_METHODS:
        @functools.wraps(fn)
        async def unified(*args: Any, **kwargs: Any) -> Any:
            with _Endpoint(name):
                return await fn(*args, **kwargs)
        return unified

    @functools.wraps(fn)
    async def order(*args: Any, **kwargs: Any) -> Any:
        with _Endpoint(name), _OrderCall(rec, name) as call:
            call.result = await fn(*args, **kwargs)
            return call.result
    return order


def _async_fetch2(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def fetch2(path: str, api: Any = "public", method: str = "GET", *args: Any, **kwargs: Any) -> Any:
        with _Endpoint(_template(api, method, path)):
            return await fn(path, api, method, *args, **kwargs)
    return fetch2


def _async_fetch(fn: Callable[..., Any], rec: _Recorder) -> Callable[..., Any]:
    @functools.wraps(fn)
    async def fetch(url: str, method: str = "GET", *args: Any, **kwargs: Any) -> Any:
        with _Attempt(rec, method):
            return await fn(url, method, *args, **kwargs)
    return fetch


def _status_hook(fn: Callable[..., Any]) -> Callable[..., Any]:
    """on_rest_response is called once per HTTP response, in both flavours, with the status."""

    @functools.wraps(fn)
    def on_rest_response(code: Any, *args: Any, **kwargs: Any) -> Any:
        cell = _STATUS.get()
        if cell is not None and isinstance(code, int):
            cell[0] = code
        return fn(code, *args, **kwargs)

    return on_rest_response


# --------------------------------------------------------------------------- entry point

def unified_methods(exchange: Any) -> list[str]:
    """snake_case names of the unified methods the exchange declares in `has` (True or 'emulated')."""
    has = getattr(exchange, "has", None) or {}
    names = []
    for name in dir(type(exchange)):
        if name.startswith("_") or "_" not in name:
            continue
        if has.get(camel_case(name)) and callable(getattr(type(exchange), name, None)):
            names.append(name)
    return names


def instrument(exchange: E, metrics: TradingMetrics) -> E:
    """Hook `exchange` (a ccxt.Exchange, sync or async_support) into `metrics`; returns it.

    Idempotent for the same metrics; a second, different TradingMetrics is refused rather
    than double counting.
    """
    current = exchange.__dict__.get(_MARK)
    if current is metrics:
        return exchange
    if current is not None:
        raise ValueError(f"{exchange!r} is already instrumented with another TradingMetrics")
    if not callable(getattr(exchange, "fetch2", None)) or not callable(getattr(exchange, "fetch", None)):
        raise TypeError(f"not a ccxt exchange object (no fetch/fetch2): {exchange!r}")
    rec = _Recorder(metrics, str(getattr(exchange, "id", "") or type(exchange).__name__))
    is_async = inspect.iscoroutinefunction(type(exchange).fetch)
    for name in unified_methods(exchange):
        fn = getattr(exchange, name)  # per method: a sync helper in async_support stays sync
        wrapped = (_async_unified if inspect.iscoroutinefunction(fn) else _sync_unified)(name, fn, rec)
        setattr(exchange, name, wrapped)
        setattr(exchange, camel_case(name), wrapped)  # ccxt's aliases live on the class
    exchange.fetch2 = (_async_fetch2 if is_async else _sync_fetch2)(exchange.fetch2)  # type: ignore[attr-defined]
    exchange.fetch = (_async_fetch if is_async else _sync_fetch)(exchange.fetch, rec)  # type: ignore[attr-defined]
    exchange.on_rest_response = _status_hook(exchange.on_rest_response)  # type: ignore[attr-defined]
    exchange.__dict__[_MARK] = metrics
    return exchange
