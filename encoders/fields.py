"""Validation and formatting of input values, per clkhash v3 ``format``.

An invalid value raises :class:`FieldValueError`, whose message says what
is expected and never repeats the value (it may be an identifier).
"""

from __future__ import annotations

from datetime import datetime

from tiplink.encoders.schema import Feature, FieldFormat

DATE_OUTPUT_FORMAT = "%Y%m%d"


class FieldValueError(ValueError):
    """A value does not conform to its feature's format.

    Attributes:
        column: the input column holding the value.
        reason: what was expected, without the value.
    """

    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason
        self.row_index: int | None = None  # position in the batch, set by the encoder


def validate(value: str, fmt: FieldFormat) -> str | None:
    """Return why ``value`` breaks ``fmt``, or ``None`` when it conforms."""
    if fmt.encoding != "utf-8" or not value.isascii():
        try:
            value.encode(fmt.encoding)
        except UnicodeEncodeError:
            return f"value cannot be encoded as {fmt.encoding}"
    if fmt.type == "string":
        if fmt.unconstrained:
            return None
        if fmt.pattern is not None:
            if fmt.pattern.fullmatch(value) is None:
                return "value does not match the feature's pattern"
            return None
        if fmt.min_length is not None and len(value) < fmt.min_length:
            return f"value shorter than minLength {fmt.min_length}"
        if fmt.max_length is not None and len(value) > fmt.max_length:
            return f"value longer than maxLength {fmt.max_length}"
        if fmt.case == "upper" and value.upper() != value:
            return "value is not upper case"
        if fmt.case == "lower" and value.lower() != value:
            return "value is not lower case"
        return None
    if fmt.type == "integer":
        try:
            number = int(value, 10)
        except ValueError:
            return "value is not an integer"
        if fmt.minimum is not None and number < fmt.minimum:
            return f"value below the minimum {fmt.minimum}"
        if fmt.maximum is not None and number > fmt.maximum:
            return f"value above the maximum {fmt.maximum}"
        return None
    if fmt.type == "date":
        try:
            datetime.strptime(value, fmt.date_format or "")
        except ValueError:
            return f"unparsable date (expected format {fmt.date_format})"
        return None
    if value not in fmt.values:
        return "value is not one of the enum's values"
    return None


def format_value(value: str, fmt: FieldFormat) -> str:
    """The canonical text that is tokenised: dates as YYYYMMDD, integers plain."""
    if fmt.type == "date":
        return datetime.strptime(value, fmt.date_format or "").strftime(DATE_OUTPUT_FORMAT)
    if fmt.type == "integer":
        return str(int(value, 10))
    return value


def prepare_value(value: str, feature: Feature) -> tuple[str, bool]:
    """Apply missing-value replacement, validation and formatting.

    Returns:
        The text to tokenise, and whether it came from a missing-value
        sentinel (then it is neither validated nor formatted, as in clkhash).

    Raises:
        FieldValueError: the value breaks the feature's format.
    """
    missing = feature.missing_value
    if missing is not None and value == missing.sentinel:
        return missing.replace_with, True
    assert feature.format is not None
    problem = validate(value, feature.format)
    if problem is not None:
        raise FieldValueError(feature.columns[0], problem)
    return format_value(value, feature.format), False
