"""JSON, JSON lines and XML bodies -> name/value pairs, so that rules judge each value on its own.

- JSON: scalar leaves, named by their dotted path (`user.address.city`; array items share their parent's
  name). A string leaf that is itself a JSON object or array (a Ghost `lexical` document, a Slack `payload`)
  is parsed and flattened under its name, up to MAX_NESTING levels: the quotes and braces of the inner
  document are syntax, not text a person typed, and a value that only looks like JSON stays as it is. A form
  field holding JSON, or a whole urlencoded form (`post_data=a%3D1%26b%3D2`), is flattened the same way. The
  text of a rich-text code block (`{"type": "codeblock", "code": "..."}`) is code, kept apart (`split_code`).
- JSON lines (`application/x-ndjson`, `application/jsonl`, Sentry envelopes): every line that is JSON, as above;
  a line that is not (an envelope's attachment) is one value named "".
- XML: the text of every element, named by its path (`methodCall.params.param.value.string`), and every
  attribute value, named `path@attribute`; character references and CDATA are decoded by the parser. The
  parser reads no DTD: a document that declares entities (or references an undeclared one) raises
  `Unparsable`, and the caller then inspects it as raw text, where the XXE rules look for exactly that.

Everything here is bounded by MAX_PAIRS and raises nothing but `Unparsable` (and ValueError, RecursionError
from the JSON decoder, which `forms.parse_body` handles).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from xml.parsers import expat

from edge.waf.errors import Unparsable

Pairs = list[tuple[str, str]]

MAX_PAIRS = 10000
MAX_NESTING = 3
MAX_NESTED_SIZE = 256 * 1024
_FORM = re.compile(r"[\w\[\].%-]+=[^&=]*(?:&[\w\[\].%-]+=[^&=]*)+\Z")


def json_pairs(text: str) -> Pairs:
    """The leaves of one JSON document (ValueError when it is not JSON)."""
    pairs: Pairs = []
    flatten(json.loads(text), "", pairs, 0)
    return pairs


def json_lines_pairs(text: str) -> Pairs:
    """The leaves of every JSON line; other non-blank lines are values named ""."""
    pairs: Pairs = []
    for line in text.splitlines():
        if len(pairs) >= MAX_PAIRS:
            break
        stripped = line.strip()
        if not stripped:
            continue
        try:
            value = json.loads(stripped)
        except (ValueError, RecursionError):
            pairs.append(("", stripped))
            continue
        flatten(value, "", pairs, 0)
    return pairs


def flatten(value: object, path: str, out: Pairs, nesting: int, code: bool = False) -> None:
    """Append the scalar leaves of `value` to `out` (see the module docstring); the string leaves of a code node
    (`is_code_node`) and below are named with CODE_MARK first, for `split_code`."""
    if len(out) >= MAX_PAIRS:
        return
    if isinstance(value, dict):
        code = code or is_code_node(value)
        for key, item in value.items():
            flatten(item, f"{path}.{key}" if path else str(key), out, nesting, code)
    elif isinstance(value, list):
        # Array items share their parent's name (`tags` for every tag, as a form repeats a field): an index in
        # the name carries no signal, and distinct names would defeat the per-value caches of the WAF.
        for item in value:
            flatten(item, path, out, nesting, code)
    elif isinstance(value, str):
        inner = nested_json(value, nesting)
        if inner is None:
            out.append((CODE_MARK + path if code else path, value))
        else:
            flatten(inner, path, out, nesting + 1, code)
    elif isinstance(value, bool) or value is None:
        out.append((path, json.dumps(value)))
    else:
        out.append((path, str(value)))


CODE_MARK = "\x00code:"
CODE_TYPES = frozenset({"code", "codeblock", "code_block", "code-block", "codeBlock"})


def is_code_node(node: dict[Any, Any]) -> bool:
    """A rich-text document's code block: an object whose `type` (or `_type`, Sanity's Portable Text) is `code`
    or `codeblock` in any spelling, as Lexical (Ghost), ProseMirror/Tiptap, Slate, Editor.js, Notion and Sanity
    write them. Its text is code a reader sees, not input the application runs."""
    kind = node.get("type", node.get("_type"))
    return isinstance(kind, str) and (kind in CODE_TYPES or kind.lower() in CODE_TYPES)


def split_code(pairs: Pairs) -> tuple[Pairs, Pairs]:
    """(fields, code): the pairs `flatten` marked as code blocks apart from the others, names unmarked."""
    if not any(name.startswith(CODE_MARK) for name, _ in pairs):
        return pairs, []
    fields = [(n, v) for n, v in pairs if not n.startswith(CODE_MARK)]
    code = [(n[len(CODE_MARK) :], v) for n, v in pairs if n.startswith(CODE_MARK)]
    return fields, code


def nested_json(value: str, nesting: int) -> Any:
    """The object or array `value` holds as JSON text, or None (not JSON, a scalar, too deep or too large)."""
    if nesting >= MAX_NESTING or len(value) > MAX_NESTED_SIZE:
        return None
    text = value.strip()
    if len(text) < 2 or (text[0], text[-1]) not in (("{", "}"), ("[", "]")):
        return None
    try:
        inner = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return inner if isinstance(inner, dict | list) else None


def expand_nested(pairs: Pairs, parse_query: Callable[[str], Pairs]) -> Pairs:
    """Form fields whose value is a JSON object or array, or itself a urlencoded form (WooCommerce's `post_data`,
    `a=1&b=2`), flattened under the field's name (`post_data.b`); other fields as they are."""
    if not any(value.lstrip()[:1] in ("{", "[") or _FORM.match(value) for _, value in pairs):
        return pairs
    out: Pairs = []
    for name, value in pairs:
        if len(out) >= MAX_PAIRS:
            break
        if _FORM.match(value) and len(value) <= MAX_NESTED_SIZE:
            out.extend((f"{name}.{key}", item) for key, item in parse_query(value))
        else:
            flatten(value, name, out, 0)
    return out


class _XmlPairs:
    """Expat callbacks collecting element texts and attribute values."""

    def __init__(self) -> None:
        self.pairs: Pairs = []
        self.path: list[str] = []
        self.text: list[list[str]] = []

    def start(self, name: str, attributes: dict[str, str]) -> None:
        self.path.append(name)
        self.text.append([])
        where = ".".join(self.path)
        for key, value in attributes.items():
            if len(self.pairs) < MAX_PAIRS:
                self.pairs.append((f"{where}@{key}", value))

    def end(self, name: str) -> None:
        text = "".join(self.text.pop()).strip() if self.text else ""
        if text and len(self.pairs) < MAX_PAIRS:
            self.pairs.append((".".join(self.path), text))
        if self.path:
            self.path.pop()

    def data(self, text: str) -> None:
        if self.text:
            self.text[-1].append(text)

    def entity(self, *args: object) -> None:
        raise Unparsable("XML document declares entities")


def xml_pairs(body: bytes) -> Pairs:
    """The element texts and attribute values of an XML document; `Unparsable` when it is not well-formed
    XML, declares entities or references an undeclared one (such documents are inspected as raw text)."""
    collector = _XmlPairs()
    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = collector.start
    parser.EndElementHandler = collector.end
    parser.CharacterDataHandler = collector.data
    parser.EntityDeclHandler = collector.entity
    parser.SkippedEntityHandler = collector.entity  # a reference to an entity the document never declared
    parser.ExternalEntityRefHandler = lambda *args: 0
    parser.buffer_text = True
    try:
        parser.Parse(body, True)
    except expat.ExpatError as exc:
        raise Unparsable(f"not well-formed XML: {exc}") from None
    return collector.pairs
