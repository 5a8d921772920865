"""The user docs name every configuration key and every rule-language field and function: a key added
without its line in docs/ fails here, so the reference cannot fall behind the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge import config
from edge.waf.fields import FIELDS
from edge.waf.functions import FUNCTIONS

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _config_keys() -> list[str]:
    keys = [f"{section}.{key}" for section, table in config._SECTIONS.items() for key in table]
    keys += [f"site.{key}" for key in config._SITE]
    keys += [f"site.{table}.{key}" for table, keys_ in config._NESTED.items() for key in keys_]
    return keys


@pytest.mark.parametrize("dotted", _config_keys())
def test_every_config_key_is_documented(dotted: str) -> None:
    text = (DOCS / "configuration.md").read_text()
    assert f"`{dotted.rsplit('.', 1)[1]}`" in text, f"docs/configuration.md does not describe {dotted}"


@pytest.mark.parametrize("name", sorted(FIELDS))
def test_every_rule_field_is_documented(name: str) -> None:
    assert f"`{name}`" in (DOCS / "rules.md").read_text(), f"docs/rules.md does not describe the field {name}"


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_every_rule_function_is_documented(name: str) -> None:
    assert f"`{name}(" in (DOCS / "rules.md").read_text(), f"docs/rules.md does not describe the function {name}"
