"""The request context IAM evaluates policies against: condition keys, each with one or
many values, looked up without regard to case.

"Key names are case-insensitive. For example, `aws:CurrentTime` is equivalent to
`AWS:currenttime`" (IAM User Guide, "IAM policy elements: Variables and tags",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html).
Values are kept as the strings policies compare them with: a Python bool becomes
"true"/"false", a number its decimal text. A key given an empty list of values counts as
absent (the guide's "empty data set": `ForAllValues` true, `ForAnyValue` false).
"""

from collections.abc import Iterable, Iterator, Mapping

Scalar = str | bool | int | float
ContextInput = Mapping[str, Scalar | Iterable[Scalar]]


def _text(value: Scalar) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _values(value: Scalar | Iterable[Scalar]) -> tuple[str, ...]:
    if isinstance(value, str | bool | int | float):
        return (_text(value),)
    return tuple(_text(v) for v in value)


class Context(Mapping[str, tuple[str, ...]]):
    """An immutable, case-insensitive mapping of condition keys to their values."""

    def __init__(self, values: ContextInput | None = None) -> None:
        self._values: dict[str, tuple[str, ...]] = {}
        self._names: dict[str, str] = {}
        for key, value in (values or {}).items():
            texts = _values(value)
            if texts:
                self._values[key.lower()] = texts
                self._names[key.lower()] = key

    def __getitem__(self, key: str) -> tuple[str, ...]:
        return self._values[key.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.values())

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._values

    def values_of(self, key: str) -> tuple[str, ...]:
        """The key's values; empty when the key is absent."""
        return self._values.get(key.lower(), ())

    def merged(self, *others: ContextInput) -> "Context":
        """A new context with the keys of `others` added; later ones win."""
        combined: dict[str, tuple[str, ...]] = dict(self._values)
        names = dict(self._names)
        for other in others:
            for key, value in other.items():
                combined[key.lower()] = _values(value)
                names[key.lower()] = key
        return Context({names[k]: v for k, v in combined.items()})

    def __repr__(self) -> str:
        return f"Context({dict(zip(self._names.values(), self._values.values(), strict=True))!r})"
