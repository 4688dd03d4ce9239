"""Which column holds what: the header mapping in ``columns.toml``, applied to a file's headers.

The seller centre's layouts have changed over the years (about 41, 46, 56 and 72 columns,
some headers with trailing spaces); columns are found by their folded header name, never by
position, so a new layout is a change to ``columns.toml``.
"""

import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

MAPPING_FILE = Path(__file__).with_name("columns.toml")
KINDS = ("orders", "items", "refunds")
# Checked in this order: a refund export also has 订单编号 and 订单状态-like columns.
_DETECT_ORDER = ("refunds", "items", "orders")


def fold(text: str | None) -> str:
    """The form headers and fixed texts are compared in: full-width folded (NFKC), every
    space removed, and a byte-order mark or wrapping quotes dropped."""
    text = unicodedata.normalize("NFKC", text or "").replace("\ufeff", "")
    return "".join(text.split()).strip("\"'")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    headers: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class Mapping:
    fields: dict[str, dict[str, FieldSpec]]
    detect: dict[str, tuple[str, ...]]
    order_statuses: dict[str, str]
    refund_statuses: dict[str, str]
    refund_reasons: tuple[tuple[str, str], ...]
    responsibility_by_reason: dict[str, str]
    responsibility_texts: dict[str, str]
    yes_texts: frozenset[str]
    no_intervention_texts: frozenset[str]
    attribute_keys: dict[str, str]


@cache
def mapping() -> Mapping:
    """The mapping file, read once per process."""
    with MAPPING_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    fields = {
        kind: {
            name: FieldSpec(
                name, tuple(fold(h) for h in spec["headers"]), bool(spec.get("required"))
            )
            for name, spec in data[kind]["fields"].items()
        }
        for kind in KINDS
    }
    return Mapping(
        fields=fields,
        detect={kind: tuple(fold(h) for h in data[kind]["detect"]) for kind in KINDS},
        order_statuses={fold(k): v for k, v in data["order_statuses"].items()},
        refund_statuses={fold(k): v for k, v in data["refund_statuses"].items()},
        refund_reasons=tuple((fold(k), v) for k, v in data["refunds"]["reason_keywords"]),
        responsibility_by_reason=dict(data["responsibility_by_reason"]),
        responsibility_texts={fold(k): v for k, v in data["responsibility_texts"].items()},
        yes_texts=frozenset(fold(t).casefold() for t in data["refunds"]["yes_texts"]),
        no_intervention_texts=frozenset(fold(t) for t in data["refunds"]["no_intervention_texts"]),
        attribute_keys={
            fold(key): target for target, keys in data["attribute_keys"].items() for key in keys
        },
    )


def detect_kind(headers: list[str]) -> str | None:
    """Which export a header row belongs to: 'orders', 'items', 'refunds' or None."""
    present = {fold(h) for h in headers}
    for kind in _DETECT_ORDER:
        if all(h in present for h in mapping().detect[kind]):
            return kind
    return None


@dataclass(frozen=True)
class Layout:
    """Where each field is in one file: field name -> column index, and the header text the
    file uses for it (for messages)."""

    kind: str
    columns: dict[str, int]
    labels: dict[str, str]
    missing: tuple[str, ...]
    unused: tuple[str, ...]
    column_count: int

    def has(self, field: str) -> bool:
        return field in self.columns


def resolve_layout(kind: str, headers: list[str]) -> Layout:
    """Matches a file's header row to the fields of ``kind``. ``missing`` lists the required
    headers the file lacks (by their usual name); ``unused`` the file's other headers."""
    folded = [fold(h) for h in headers]
    first_index: dict[str, int] = {}
    for index, name in enumerate(folded):
        if name:
            first_index.setdefault(name, index)
    claimed: set[int] = set()
    columns, labels, missing = {}, {}, []
    for spec in mapping().fields[kind].values():
        for header in spec.headers:
            index = first_index.get(header)
            if index is not None and index not in claimed:
                claimed.add(index)
                columns[spec.name] = index
                labels[spec.name] = headers[index].strip().replace("\ufeff", "")
                break
        else:
            if spec.required:
                missing.append(spec.headers[0])
    unused = tuple(headers[i].strip() for i, name in enumerate(folded) if name and i not in claimed)
    return Layout(kind, columns, labels, tuple(missing), unused, len(headers))
