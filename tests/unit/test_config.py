"""edge.toml loading: typed values, paths relative to the file, and errors that name the line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.config import DEFAULT_CONTENT_TYPES, DEFAULT_METHODS, ConfigError, Listen, SiteCacheConfig, parse_config
from edge.units import parse_duration, parse_size

MINIMAL = """\
[server]
https = "127.0.0.1:8443"

[[site]]
hosts = ["example.test", "*.example.test"]
origins = ["http://127.0.0.1:9000", "https://app.internal"]
"""


def load(text: str) -> object:
    return parse_config(text, Path("/srv/edge/edge.toml"))


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text, Path("/srv/edge/edge.toml"))
    return [str(p) for p in info.value.problems]


def test_minimal_config_gets_defaults_and_relative_paths() -> None:
    config = parse_config(MINIMAL, Path("/srv/edge/edge.toml"))
    assert config.server.https == Listen("127.0.0.1", 8443)
    assert config.tls.certs == Path("/srv/edge/certs")
    assert config.waf.rules == Path("/srv/edge/rules")
    assert config.waf.max_body == 1024 * 1024
    site = config.sites[0]
    assert site.hosts == ("example.test", "*.example.test")
    assert [(o.scheme, o.host, o.port) for o in site.origins] == [
        ("http", "127.0.0.1", 9000),
        ("https", "app.internal", 443),
    ]
    assert site.origins[1].authority == "app.internal"


def test_ipv6_listen_and_sizes_and_durations() -> None:
    text = MINIMAL.replace('https = "127.0.0.1:8443"', 'https = "[::]:443"\ngrace = "1500ms"')
    text += 'max_body = "2MiB"\ntimeouts = { connect = "250ms", read = "1m" }\n'
    config = parse_config(text, Path("/x/edge.toml"))
    assert config.server.https == Listen("::", 443)
    assert config.server.grace == 1.5
    site = config.sites[0]
    assert site.max_body == 2 * 1024 * 1024
    assert (site.connect_timeout, site.read_timeout) == (0.25, 60.0)


def test_unknown_key_names_line_and_suggests() -> None:
    text = MINIMAL + 'balanse = "round-robin"\n'
    (message,) = problems(text)
    assert message.startswith(
        "/srv/edge/edge.toml:7: unknown key 'balanse' in [site] (did you mean 'balance'?); valid keys: hosts, "
        "origins, balance, max_body, hsts, timeouts, health, "
    ), message


def test_unknown_key_in_second_site_and_nested_table() -> None:
    text = MINIMAL + '\n[[site]]\nhosts = ["b.test"]\norigins = ["http://127.0.0.1:1"]\ntimeouts = { conect = "1s" }\n'
    (message,) = problems(text)
    assert message.startswith("/srv/edge/edge.toml:11: unknown key 'conect'")
    assert "did you mean 'connect'" in message


@pytest.mark.parametrize(
    ("replace", "expected"),
    [
        ('https = "127.0.0.1:8443"', ':2: server.https: expected "host:port"'),
        ('origins = ["http://127.0.0.1:9000", "https://app.internal"]', ":6: site.origins: expected an origin URL"),
    ],
)
def test_bad_values_name_their_line(replace: str, expected: str) -> None:
    broken = {
        'https = "127.0.0.1:8443"': 'https = "127.0.0.1"',
        'origins = ["http://127.0.0.1:9000", "https://app.internal"]': 'origins = ["ftp://x"]',
    }[replace]
    (message,) = problems(MINIMAL.replace(replace, broken))
    assert expected in message


def test_bad_choice_suggests_the_right_word() -> None:
    (message,) = problems(MINIMAL + 'balance = "round_robin"\n')
    assert ":7: site.balance: expected one of" in message and 'did you mean "round-robin"' in message


def test_workers_out_of_range_and_bad_duration_are_both_reported() -> None:
    text = MINIMAL.replace('https = "127.0.0.1:8443"', 'https = "127.0.0.1:8443"\nworkers = 0\ngrace = "ten"')
    found = problems(text)
    assert any(":3: server.workers: expected an integer from 1 to 256" in m for m in found)
    assert any(":4: server.grace: expected a duration" in m for m in found)


def test_toml_syntax_error_has_line() -> None:
    (message,) = problems(MINIMAL + "hsts = \n")
    assert message.startswith("/srv/edge/edge.toml:7: TOML syntax")


def test_duplicate_host_across_sites() -> None:
    text = MINIMAL + '\n[[site]]\nhosts = ["example.test"]\norigins = ["http://127.0.0.1:1"]\n'
    (message,) = problems(text)
    assert ":9: host 'example.test' is already served by site #1" in message


def test_admin_off_loopback_needs_token(monkeypatch: pytest.MonkeyPatch) -> None:
    text = MINIMAL.replace('https = "127.0.0.1:8443"', 'https = "127.0.0.1:8443"\nadmin = "0.0.0.0:9901"')
    (message,) = problems(text)
    assert "admin_token_env" in message
    ok = text.replace('admin = "0.0.0.0:9901"', 'admin = "0.0.0.0:9901"\nadmin_token_env = "TOKEN"')
    monkeypatch.setenv("TOKEN", "t0ken")
    parse_config(ok, Path("/x/edge.toml"))


def test_admin_token_env_must_name_a_set_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EDGE_UNSET_TOKEN", raising=False)
    text = MINIMAL.replace('https = "127.0.0.1:8443"', 'https = "127.0.0.1:8443"\nadmin_token_env = "EDGE_UNSET_TOKEN"')
    (message,) = problems(text)
    assert message.startswith(
        "/srv/edge/edge.toml:3: server.admin_token_env: the environment variable EDGE_UNSET_TOKEN"
    )
    assert "would refuse every request" in message and "export EDGE_UNSET_TOKEN=" in message
    monkeypatch.setenv("EDGE_UNSET_TOKEN", "")
    assert problems(text) == [message]


def test_unknown_key_without_a_close_name_lists_the_valid_ones() -> None:
    (message,) = problems(MINIMAL.replace("[server]", "[server]\nzzz = 1"))
    assert message.endswith(
        "unknown key 'zzz' in [server]; valid keys: https, http, admin, admin_token_env, workers, trusted_proxies, "
        "proxy_protocol, grace, client_header_timeout, client_body_timeout, keepalive_timeout, max_connections"
    )


def test_hsts_is_off_unless_configured() -> None:
    assert parse_config(MINIMAL, Path("/x/edge.toml")).sites[0].hsts == ""


def test_log_table_defaults_and_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    config = parse_config(MINIMAL, Path("/x/edge.toml"))
    assert (config.log.format, config.log.access, config.log.error) == ("json", "stdout", "stderr")
    assert "token" in config.log.redact and "password" in config.log.redact
    text = MINIMAL.replace(
        "[server]",
        '[log]\nformat = "text"\naccess = "logs/access.log"\nerror = "/var/log/e.log"\nredact = ["Token"]\n[server]',
    )
    log = parse_config(text, Path("/x/edge.toml")).log
    assert (log.format, log.access, log.error, log.redact) == (
        "text",
        "/x/logs/access.log",
        "/var/log/e.log",
        ("token",),
    )
    (bad,) = problems(MINIMAL.replace("[server]", '[log]\nformat = "jsn"\n[server]'))
    assert "log.format: expected one of 'json', 'text'" in bad and 'did you mean "json"' in bad


def test_site_cache_table_is_parsed_and_off_by_default() -> None:
    assert parse_config(MINIMAL, Path("/x/edge.toml")).sites[0].cache == SiteCacheConfig()
    assert SiteCacheConfig().enabled is False
    text = MINIMAL + '  [site.cache]\n  enabled = true\n  max_entry = "2MiB"\n  store_set_cookie = true\n'
    cache = parse_config(text, Path("/x/edge.toml")).sites[0].cache
    assert cache == SiteCacheConfig(enabled=True, max_entry=2 * 1024 * 1024, store_set_cookie=True)


def test_site_cache_errors_name_the_key_and_line() -> None:
    text = MINIMAL + '  [site.cache]\n  enabled = "yes"\n  max_entri = "1MiB"\n'
    found = problems(text)
    assert any(":8:" in m and "site.cache.enabled: expected true or false" in m for m in found), found
    assert any(":9:" in m and "unknown key 'max_entri'" in m and "max_entry" in m for m in found), found


def test_site_compress_is_off_by_default_and_a_boolean() -> None:
    assert parse_config(MINIMAL, Path("/x/edge.toml")).sites[0].compress is False
    assert parse_config(MINIMAL + "compress = true\n", Path("/x/edge.toml")).sites[0].compress is True
    (message,) = problems(MINIMAL + 'compress = "gzip"\n')
    assert ":7: site.compress: expected true or false, got 'gzip'" in message


def test_missing_required_pieces() -> None:
    found = problems('[server]\nhttp = "127.0.0.1:80"\n')
    assert any("missing the required key 'https'" in m for m in found)
    assert any("no [[site]]" in m for m in found)


@pytest.mark.parametrize(("text", "value"), [("1MiB", 1 << 20), ("512KiB", 512 << 10), (2048, 2048), ("1GiB", 1 << 30)])
def test_sizes(text: object, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["1 parsec", "-1", True, "MiB"])
def test_bad_sizes(text: object) -> None:
    with pytest.raises(ValueError, match="expected a size"):
        parse_size(text)


@pytest.mark.parametrize(("text", "value"), [("250ms", 0.25), ("3s", 3.0), ("5m", 300.0), ("1h", 3600.0), (2, 2.0)])
def test_durations(text: object, value: float) -> None:
    assert parse_duration(text) == value


# --- origins with weights -----------------------------------------------------------------------------------------

WEIGHTED = MINIMAL.replace(
    'origins = ["http://127.0.0.1:9000", "https://app.internal"]',
    'origins = [{ url = "http://10.0.0.5:80", weight = 3 }, "http://10.0.0.6:80", { url = "https://app.internal" }]',
)


def test_origins_mix_urls_and_weighted_tables() -> None:
    site = parse_config(WEIGHTED, Path("/x/edge.toml")).sites[0]
    assert [(o.host, o.port, o.weight) for o in site.origins] == [
        ("10.0.0.5", 80, 3),
        ("10.0.0.6", 80, 1),
        ("app.internal", 443, 1),
    ]
    assert site.origins[0].url == "http://10.0.0.5:80"


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            '{ url = "http://10.0.0.5:80", wieght = 3 }',
            "unknown key 'wieght' in an origin table (did you mean 'weight'?)",
        ),
        (
            '{ url = "http://10.0.0.5:80", weight = 0 }',
            "weight of http://10.0.0.5:80: expected an integer from 1 to 1000",
        ),
        ('{ url = "http://10.0.0.5:80", weight = 1001 }', "expected an integer from 1 to 1000, got 1001"),
        ('{ url = "http://10.0.0.5:80", weight = 1.5 }', "expected an integer from 1 to 1000, got 1.5"),
        ("{ weight = 2 }", "an origin table needs a url"),
        ('{ url = "ftp://x", weight = 2 }', "expected an origin URL"),
        ("7", "expected an origin URL such as"),
    ],
)
def test_bad_origin_tables_name_the_line_and_the_fix(entry: str, expected: str) -> None:
    text = MINIMAL.replace('origins = ["http://127.0.0.1:9000", "https://app.internal"]', f"origins = [{entry}]")
    (message,) = problems(text)
    assert message.startswith("/srv/edge/edge.toml:6: site.origins: ")
    assert expected in message


# --- health ---------------------------------------------------------------------------------------------------------


def test_health_thresholds_and_defaults() -> None:
    text = MINIMAL + 'health = { path = "/up", interval = "10s", timeout = "500ms", healthy = 1, unhealthy = 5 }\n'
    health = parse_config(text, Path("/x/edge.toml")).sites[0].health
    assert health is not None
    assert (health.path, health.interval, health.timeout, health.healthy, health.unhealthy) == ("/up", 10.0, 0.5, 1, 5)
    health = parse_config(MINIMAL + 'health = { path = "/up" }\n', Path("/x/edge.toml")).sites[0].health
    assert health is not None
    assert (health.interval, health.timeout, health.healthy, health.unhealthy) == (5.0, 2.0, 2, 3)


@pytest.mark.parametrize(
    ("health", "expected"),
    [
        ('{ path = "up" }', 'site.health.path: expected a path starting with "/"'),
        ('{ interval = "0s" }', "site.health.interval: expected a duration above zero"),
        ('{ timeout = "soon" }', "site.health.timeout: expected a duration"),
        ("{ healthy = 0 }", "site.health.healthy: expected an integer from 1 to 100"),
        ("{ unhealthy = 101 }", "site.health.unhealthy: expected an integer from 1 to 100"),
        ('{ interval = "1s" }', "timeout (2s) is longer than interval (1s)"),
        ("{ unhelthy = 3 }", "unknown key 'unhelthy' in [site.health] (did you mean 'unhealthy'?)"),
    ],
)
def test_bad_health_values(health: str, expected: str) -> None:
    (message,) = problems(MINIMAL + f"health = {health}\n")
    assert message.startswith("/srv/edge/edge.toml:7: ")
    assert expected in message


# --- origin_auth ------------------------------------------------------------------------------------------------------

AUTH = MINIMAL + 'origin_auth = { secret_env = "EDGE_TEST_ORIGIN_SECRET" }\n'


def test_origin_auth_reads_the_variable_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDGE_TEST_ORIGIN_SECRET", "new-secret,old-secret")
    assert parse_config(AUTH, Path("/x/edge.toml")).sites[0].origin_auth_secret_env == "EDGE_TEST_ORIGIN_SECRET"


@pytest.mark.parametrize("value", [None, "", "   ", ",old-secret"])
def test_origin_auth_without_its_secret_is_a_problem_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("EDGE_TEST_ORIGIN_SECRET", raising=False)
    else:
        monkeypatch.setenv("EDGE_TEST_ORIGIN_SECRET", value)
    (message,) = problems(AUTH)
    assert message.startswith("/srv/edge/edge.toml:7: site.origin_auth.secret_env: ")
    assert "EDGE_TEST_ORIGIN_SECRET is not set or empty" in message


def test_origin_auth_needs_secret_env() -> None:
    (message,) = problems(MINIMAL + "origin_auth = {}\n")
    assert ":7: site.origin_auth needs secret_env" in message
    typo, missing = problems(MINIMAL + 'origin_auth = { secret = "x" }\n')
    assert "unknown key 'secret' in [site.origin_auth] (did you mean 'secret_env'?)" in typo
    assert "needs secret_env" in missing


def test_site_methods_and_content_types_default_to_what_clients_send() -> None:
    site = parse_config(MINIMAL, Path("/srv/edge/edge.toml")).sites[0]
    assert site.methods == DEFAULT_METHODS
    assert {"GET", "POST", "PUT", "DELETE", "PROPFIND", "REPORT", "MKCOL", "LOCK"} <= site.methods
    assert "TRACE" not in site.methods and "CONNECT" not in site.methods
    assert site.content_types == DEFAULT_CONTENT_TYPES
    assert {"application/json", "multipart/form-data", "application/*+json", "image/*"} <= set(site.content_types)


def test_site_methods_and_content_types_are_read() -> None:
    text = MINIMAL + 'methods = ["GET", "HEAD", "SUBSCRIBE"]\ncontent_types = ["Application/JSON", "image/*"]\n'
    site = parse_config(text, Path("/srv/edge/edge.toml")).sites[0]
    assert site.methods == frozenset({"GET", "HEAD", "SUBSCRIBE"})
    assert site.content_types == ("application/json", "image/*")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("methods = []", "site.methods: expected a non-empty list of methods"),
        ('methods = ["GET /"]', "site.methods: 'GET /' is not a method name"),
        ('content_types = ["json"]', "site.content_types: 'json' is not a media type"),
        ('content_types = ["text/plain; charset=utf-8"]', "is not a media type"),
    ],
)
def test_bad_site_methods_and_content_types(line: str, expected: str) -> None:
    (message,) = problems(MINIMAL + line + "\n")
    assert message.startswith("/srv/edge/edge.toml:7: ") and expected in message


def test_waf_audit_log_is_a_path_next_to_the_config() -> None:
    config = parse_config(MINIMAL + '\n[waf]\naudit_log = "logs/waf-audit.jsonl"\n', Path("/srv/edge/edge.toml"))
    assert config.waf.audit_log == Path("/srv/edge/logs/waf-audit.jsonl")
    assert parse_config(MINIMAL, Path("/srv/edge/edge.toml")).waf.audit_log is None
