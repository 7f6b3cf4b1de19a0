"""The `probes:` section is strict: each mistake is named by key, secrets are masked."""

from __future__ import annotations

import pytest

from tradewatch.config import ConfigError, parse_config

HTTP = {"name": "api", "url": "http://127.0.0.1:1/"}


@pytest.mark.parametrize(("probes", "key", "words"), [
    ({"http": [{**HTTP, "url": "ftp://x/"}]}, "probes.http[0].url", "http:// or https://"),
    ({"http": [{**HTTP, "method": "GET /"}]}, "probes.http[0].method", "not an HTTP method"),
    ({"http": [{**HTTP, "expected_status": [200, 700]}]}, "probes.http[0].expected_status", "100-599"),
    ({"http": [{**HTTP, "expected_status": []}]}, "probes.http[0].expected_status", "at least 1"),
    ({"http": [{**HTTP, "timeout": "0s"}]}, "probes.http[0].timeout", "above 0s"),
    ({"http": [{**HTTP, "body_regex": "("}]}, "probes.http[0].body_regex", "invalid regular expression"),
    ({"http": [{**HTTP, "headers": {"X": "a\r\nB: c"}}]}, "probes.http[0].headers", "CR/LF"),
    ({"http": [{**HTTP, "timout": "1s"}]}, "probes.http[0].timout", "unknown key"),
    ({"http": [HTTP, HTTP]}, "probes", "http probe names must be unique (repeated: api)"),
    ({"tcp": [{"name": "db", "address": "db.internal"}]}, "probes.tcp[0].address", "HOST:PORT"),
    ({"tcp": [{"name": "db", "address": "db:70000"}]}, "probes.tcp[0].address", "HOST:PORT"),
    ({"sql": [{"name": "s", "dsn": "x.db", "driver": "mysql"}]}, "probes.sql[0].driver", "sqlite"),
    ({"sql": [{"name": "s", "dsn": "x.db", "queries": [{"name": "open-positions", "sql": "SELECT 1"}]}]},
     "probes.sql[0].queries[0].name", "metric name part"),
    ({"sql": [{"name": "s", "dsn": "x.db", "queries": [{"name": "query_success", "sql": "SELECT 1"}]}]},
     "probes.sql[0].queries[0].name", "reserved"),
    ({"sql": [{"name": "s", "dsn": "x.db",
               "queries": [{"name": "q", "sql": "SELECT 1", "labels": ["__x"]}]}]},
     "probes.sql[0].queries[0].labels", "label name"),
    ({"sql": [{"name": "a", "dsn": "a.db", "queries": [{"name": "q", "sql": "SELECT 1"}]},
              {"name": "b", "dsn": "b.db", "queries": [{"name": "q", "sql": "SELECT 2"}]}]},
     "probes", "sql query names must be unique across probes"),
])
def test_mistakes_are_named(probes, key, words):
    with pytest.raises(ConfigError) as err:
        parse_config({"probes": probes}, source="tw.yaml")
    message = str(err.value)
    assert f"tw.yaml: {key}: " in message and words in message, message


def test_defaults_and_normalisation():
    cfg = parse_config({"probes": {"http": [{**HTTP, "method": "post"}],
                                   "tcp": [{"name": "db", "address": "[::1]:5432"}]}})
    http = cfg.probes.http[0]
    assert (http.method, http.expected_status, http.timeout, http.verify_tls) == ("POST", [200], 5.0, True)
    assert cfg.probes.tcp[0].timeout == 2.0


def test_headers_and_dsn_are_masked_in_dumps():
    cfg = parse_config({"probes": {
        "http": [{**HTTP, "headers": {"Authorization": "Bearer s3cret"}}],
        "sql": [{"name": "pg", "driver": "postgresql", "dsn": "host=db password=hunter2"}],
    }})
    dumped = str(cfg.masked())
    assert "s3cret" not in dumped and "hunter2" not in dumped
