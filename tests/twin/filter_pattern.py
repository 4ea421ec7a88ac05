"""CloudWatch Logs filter patterns, as the twin applies a subscription filter to each log line.

The syntax of https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html:
the empty pattern (every line); terms (``ERROR``, ``"quoted phrase"``, ``-excluded``, ``?either ?or``);
and JSON patterns ``{ $.a.b = "value" }`` with ``=``/``!=`` on strings (``*`` wildcards), numbers and
``true``/``false``/``null``, ``<``/``>``/``<=``/``>=`` on numbers, ``IS NULL``/``NOT EXISTS``, joined by
``&&``/``||`` with parentheses. Anything else raises, so that an unsupported pattern is never guessed.
"""

from __future__ import annotations

import json
import re
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:(?P<and>&&)|(?P<or>\|\|)|(?P<open>\()|(?P<close>\))|(?P<op>!=|<=|>=|=|<|>)"""
    r"""|(?P<selector>\$(?:\.[A-Za-z0-9_\-]+|\[\d+\])+)|(?P<string>"(?:[^"\\]|\\.)*")"""
    r"""|(?P<isnull>IS\s+NULL)|(?P<notexists>NOT\s+EXISTS)|(?P<word>[^\s()&|=!<>"]+))"""
)


class UnsupportedPattern(ValueError):
    """A filter pattern this implementation does not understand."""


def matches(pattern: str, line: str) -> bool:
    """Whether a subscription filter with ``pattern`` forwards ``line``."""
    text = pattern.strip()
    if not text:
        return True
    if text.startswith("{"):
        if not text.endswith("}"):
            raise UnsupportedPattern(f"unbalanced JSON pattern: {pattern!r}")
        json_pattern = _JsonPattern(text[1:-1])
        try:
            document = json.loads(line)
        except ValueError:
            # Evaluating reads the whole pattern: an unsupported one raises whatever the line.
            json_pattern.evaluate(None)
            return False
        return json_pattern.evaluate(document)
    if text.startswith("[") or re.search(r"(?:^|\s)[-?]?%\S+%(?:\s|$)", text):
        raise UnsupportedPattern(f"space-delimited and regex patterns are not supported: {pattern!r}")
    return _terms(text, line)


def _terms(text: str, line: str) -> bool:
    terms = re.findall(r'-?\??"(?:[^"\\]|\\.)*"|\S+', text)
    optional = [t[1:] for t in terms if t.startswith("?")]
    required = [t for t in terms if not t.startswith(("?", "-"))]
    excluded = [t[1:] for t in terms if t.startswith("-")]

    def present(term: str) -> bool:
        return (term[1:-1] if term.startswith('"') else term) in line

    if optional and not required and not excluded:
        return any(present(term) for term in optional)
    return all(present(term) for term in required) and not any(present(term) for term in excluded)


class _JsonPattern:
    def __init__(self, text: str) -> None:
        self.tokens = self._tokenize(text)
        self.position = 0

    @staticmethod
    def _tokenize(text: str) -> list[tuple[str, str]]:
        tokens, position = [], 0
        while position < len(text):
            if text[position:].strip() == "":
                break
            match = _TOKEN.match(text, position)
            if not match or match.end() == position:
                raise UnsupportedPattern(f"cannot read filter pattern at {text[position:]!r}")
            kind = match.lastgroup or ""
            tokens.append((kind, match.group(kind)))
            position = match.end()
        return tokens

    def evaluate(self, document: Any) -> bool:
        self.position = 0
        result = self._or(document)
        if self.position != len(self.tokens):
            raise UnsupportedPattern(f"unexpected {self.tokens[self.position][1]!r} in filter pattern")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def _take(self, kind: str) -> str:
        if self._peek() != kind:
            found = self.tokens[self.position][1] if self.position < len(self.tokens) else "the end"
            raise UnsupportedPattern(f"expected {kind} in filter pattern, found {found!r}")
        value = self.tokens[self.position][1]
        self.position += 1
        return value

    def _or(self, document: Any) -> bool:
        result = self._and(document)
        while self._peek() == "or":
            self._take("or")
            right = self._and(document)
            result = result or right
        return result

    def _and(self, document: Any) -> bool:
        result = self._term(document)
        while self._peek() == "and":
            self._take("and")
            right = self._term(document)
            result = result and right
        return result

    def _term(self, document: Any) -> bool:
        if self._peek() == "open":
            self._take("open")
            result = self._or(document)
            self._take("close")
            return result
        selector = self._take("selector")
        found, value = _select(document, selector)
        if self._peek() == "isnull":
            self._take("isnull")
            return found and value is None
        if self._peek() == "notexists":
            self._take("notexists")
            return not found
        operator = self._take("op")
        kind = self._peek()
        literal = self._take("string") if kind == "string" else self._take("word")
        # Compared even when not found, so that an unsupported comparison raises on every line.
        matched = _compare(value, operator, literal, quoted=kind == "string")
        return found and matched


def _select(document: Any, selector: str) -> tuple[bool, Any]:
    current = document
    for name, index in re.findall(r"\.([A-Za-z0-9_\-]+)|\[(\d+)\]", selector):
        if name:
            if not isinstance(current, dict) or name not in current:
                return False, None
            current = current[name]
        else:
            if not isinstance(current, list) or int(index) >= len(current):
                return False, None
            current = current[int(index)]
    return True, current


def _compare(value: Any, operator: str, literal: str, *, quoted: bool) -> bool:
    if quoted or not re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false|null|\*", literal):
        text = json.loads(literal) if quoted else literal
        if operator not in ("=", "!="):
            raise UnsupportedPattern(f"{operator} compares numbers only")
        # ``*`` is the only wildcard; ``?`` and ``[`` are literal characters of the value.
        wildcard = ".*".join(re.escape(part) for part in text.split("*"))
        equal = isinstance(value, str) and re.fullmatch(wildcard, value, re.DOTALL) is not None
        return equal if operator == "=" else not equal
    if literal == "*":
        return operator == "=" and value is not None
    if literal in ("true", "false", "null"):
        wanted = {"true": True, "false": False, "null": None}[literal]
        equal = value is wanted
        return equal if operator == "=" else not equal
    if not isinstance(value, int | float) or isinstance(value, bool):
        return operator == "!="
    number = float(literal)
    return {
        "=": value == number,
        "!=": value != number,
        "<": value < number,
        ">": value > number,
        "<=": value <= number,
        ">=": value >= number,
    }[operator]
