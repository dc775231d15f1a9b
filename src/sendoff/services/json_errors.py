"""Why a JSON text is malformed, in the words of Jackson, the Java parser AWS uses.

EventBridge (event patterns) and SNS (filter and redrive policies) parse JSON with
Jackson and put its message in their error, for example::

    Unrecognized token 'this': was expecting (JSON String, Number, Array, Object or token
    'null', 'true' or 'false')
     at [Source: (String)"this is not json"; line: 1, column: 5]

:func:`jackson_error` finds the first fault in a text Python's ``json`` already refused
and words it as Jackson does for the common cases, all recorded from AWS or read from
Jackson's ``ReaderBasedJsonParser``: a bare word (``Unrecognized token``), a character
where a field name, a value, a comma or a colon must be (``Unexpected character``), an
unclosed array, object or string (``Unexpected end-of-input``), a raw control character
or a bad escape in a string. Numbers with a bad shape (leading zeros, a lone ``-``) and
anything else get a generic ``Unexpected character`` or fall back to Python's reason;
the line and column are Jackson's (1-based; the column is that of the offending
character, or just past an unrecognized word).

The location line differs per service: EventBridge quotes the source
(:func:`source_location`), SNS's newer Jackson does not (:data:`REDACTED_SOURCE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from sendoff.model.digits import is_digits

_VALUES: Final = "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')"
_WHITESPACE: Final = " \t\r\n"
_MAX_SOURCE: Final = 500  # Jackson quotes at most this many characters of the source
REDACTED_SOURCE: Final = "REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled)"


@dataclass(frozen=True, kw_only=True, slots=True)
class JsonFault:
    """Jackson's reason, and where (1-based line and column) it stopped."""

    reason: str
    line: int
    column: int

    def located(self, source: str) -> str:
        """The reason with Jackson's `` at [Source: ...; line: L, column: C]`` suffix."""
        return f"{self.reason}\n at [Source: {source}; line: {self.line}, column: {self.column}]"


def source_location(text: str) -> str:
    """How Jackson 2.x quotes a String source: ``(String)"<text>"``, cut at 500 chars."""
    if len(text) > _MAX_SOURCE:
        return f'(String)"{text[:_MAX_SOURCE]}"[truncated {len(text) - _MAX_SOURCE} chars]'
    return f'(String)"{text}"'


class _Fault(Exception):
    def __init__(self, reason: str, index: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.index = index  # 0-based; the column is index + 1 on its line


def _char(ch: str) -> str:
    """Jackson's ``_getCharDesc``: ``'x' (code 120)`` or ``(CTRL-CHAR, code 10)``."""
    code = ord(ch)
    if code < 32:
        return f"(CTRL-CHAR, code {code})"
    return f"'{ch}' (code {code})"


def _unexpected(ch: str, index: int, expecting: str) -> _Fault:
    if ch == "/":
        expecting = (
            "maybe a (non-standard) comment? (not recognized as one since Feature "
            "'ALLOW_COMMENTS' not enabled for parser)"
        )
    return _Fault(f"Unexpected character ({_char(ch)}): {expecting}", index)


class _Scanner:
    """A strict JSON reader that stops at the first fault, as Jackson does."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0

    def peek(self) -> str:
        while self.i < len(self.text) and self.text[self.i] in _WHITESPACE:
            self.i += 1
        return self.text[self.i] if self.i < len(self.text) else ""

    def eof(self, what: str) -> _Fault:
        return _Fault(f"Unexpected end-of-input{what}", len(self.text))

    def value(self, container: tuple[str, int] | None = None) -> None:
        """One JSON value; ``container`` is the enclosing (kind, start index), named in
        the end-of-input message (built only then: building it per value is quadratic)."""
        ch = self.peek()
        if not ch:
            raise self.unclosed(*container) if container else self.eof("")
        if ch == "{":
            self.object()
        elif ch == "[":
            self.array()
        elif ch == '"':
            self.string()
        elif ch == "-" or is_digits(ch):
            self.number()
        elif ch.isalpha() or ch == "_" or ch == "$":
            self.word()
        else:
            raise _unexpected(ch, self.i, f"expected a valid value {_VALUES}")

    def word(self) -> None:
        start = self.i
        end = start
        while end < len(self.text) and (self.text[end].isalnum() or self.text[end] in "_$"):
            end += 1
        token = self.text[start:end]
        if token in ("true", "false", "null"):
            self.i = end
            return
        if token in ("NaN", "Infinity"):
            raise _Fault(
                f"Non-standard token '{token}': enable "
                "`JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow",
                end,
            )
        raise _Fault(f"Unrecognized token '{token}': was expecting {_VALUES}", end)

    def number(self) -> None:
        start = self.i
        text = self.text
        end = start + 1 if text[start] == "-" else start
        digits = end
        while end < len(text) and is_digits(text[end]):
            end += 1
        if end == digits:
            found = text[end] if end < len(text) else ""
            if not found:
                raise self.eof(" in a Number value")
            raise _Fault(
                f"Unexpected character ({_char(found)}) in numeric value: "
                "expected digit (0-9) to follow minus sign, for valid numeric value",
                end,
            )
        if text[digits] == "0" and end - digits > 1:
            raise _Fault("Invalid numeric value: Leading zeroes not allowed", digits + 1)
        if end < len(text) and text[end] == ".":
            end += 1
            frac = end
            while end < len(text) and is_digits(text[end]):
                end += 1
            if end == frac:
                raise self._digit_fault(end, "Decimal point not followed by a digit")
        if end < len(text) and text[end] in "eE":
            end += 1
            if end < len(text) and text[end] in "+-":
                end += 1
            exp = end
            while end < len(text) and is_digits(text[end]):
                end += 1
            if end == exp:
                raise self._digit_fault(end, "Exponent indicator not followed by a digit")
        self.i = end

    def _digit_fault(self, end: int, why: str) -> _Fault:
        if end >= len(self.text):
            return self.eof(" in a Number value")
        return _Fault(
            f"Unexpected character ({_char(self.text[end])}) in numeric value: {why}", end
        )

    def string(self) -> None:
        text = self.text
        i = self.i + 1
        while i < len(text):
            ch = text[i]
            if ch == '"':
                self.i = i + 1
                return
            if ch == "\\":
                escape = text[i + 1 : i + 2]
                if not escape:
                    break
                if escape == "u":
                    digits = text[i + 2 : i + 6]
                    for offset, digit in enumerate(digits):
                        if digit not in "0123456789abcdefABCDEF":
                            raise _Fault(
                                f"Unexpected character ({_char(digit)}): expected a hex-digit "
                                "for character escape sequence",
                                i + 2 + offset,
                            )
                    if len(digits) < 4:
                        break
                    i += 6
                    continue
                if escape not in '"\\/bfnrt':
                    raise _Fault(f"Unrecognized character escape {_char(escape)}", i + 1)
                i += 2
                continue
            if ord(ch) < 32:
                raise _Fault(
                    f"Illegal unquoted character ({_char(ch)}): has to be escaped using "
                    "backslash to be included in string value",
                    i,
                )
            i += 1
        raise self.eof(": was expecting closing quote for a string value")

    def object(self) -> None:
        start = self.i
        self.i += 1
        if self.peek() == "}":
            self.i += 1
            return
        while True:
            ch = self.peek()
            if not ch:
                raise self.unclosed("OBJECT", start)
            if ch != '"':
                raise _unexpected(ch, self.i, "was expecting double-quote to start field name")
            self.string()
            ch = self.peek()
            if ch != ":":
                if not ch:
                    raise self.unclosed("OBJECT", start)
                raise _unexpected(
                    ch, self.i, "was expecting a colon to separate field name and value"
                )
            self.i += 1
            self.value(("OBJECT", start))
            ch = self.peek()
            if ch == "}":
                self.i += 1
                return
            if not ch:
                raise self.unclosed("OBJECT", start)
            if ch != ",":
                raise _unexpected(ch, self.i, "was expecting comma to separate Object entries")
            self.i += 1

    def array(self) -> None:
        start = self.i
        self.i += 1
        if self.peek() == "]":
            self.i += 1
            return
        while True:
            self.value(("ARRAY", start))
            ch = self.peek()
            if ch == "]":
                self.i += 1
                return
            if not ch:
                raise self.unclosed("ARRAY", start)
            if ch != ",":
                raise _unexpected(ch, self.i, "was expecting comma to separate Array entries")
            self.i += 1

    def unclosed(self, kind: str, start: int) -> _Fault:
        line, column = _line_column(self.text, start)
        return self.eof(
            f": expected close marker for {kind} (start marker at [Source: "
            f"{source_location(self.text)}; line: {line}, column: {column}])"
        )


def _line_column(text: str, index: int) -> tuple[int, int]:
    line = text.count("\n", 0, index) + 1
    line_start = text.rfind("\n", 0, index) + 1
    return line, index - line_start + 1


def jackson_error(text: str) -> JsonFault | None:
    """The first fault in ``text`` as Jackson reports it; None if the scanner finds none
    (the caller then keeps its own reason). Content after a complete root value is not
    a fault here: Jackson's tree reader stops at the end of the first value."""
    scanner = _Scanner(text)
    try:
        if not scanner.peek():
            return JsonFault(reason="No content to map due to end-of-input", line=1, column=1)
        scanner.value()
    except _Fault as fault:
        line, column = _line_column(text, fault.index)
        return JsonFault(reason=fault.reason, line=line, column=column)
    except RecursionError:
        return None
    return None


def jackson_reason(text: str) -> str:
    """SNS's wording of a JSON fault: Jackson's reason and location, source redacted
    (``Unexpected character ('i' (code 105)): ... at [Source: REDACTED ...]``)."""
    fault = jackson_error(text)
    if fault is None:
        return "Unexpected character: not a single JSON value"
    return fault.located(REDACTED_SOURCE)


def first_token_end(text: str) -> tuple[int, int]:
    """Line and column just past the first token (where Jackson stands after reading a
    root that turns out not to be an object)."""
    scanner = _Scanner(text)
    ch = scanner.peek()
    index = scanner.i + 1
    if ch and ch not in "[{":
        try:
            scanner.value()
            index = scanner.i
        except (_Fault, RecursionError):
            pass
    return _line_column(text, index)
