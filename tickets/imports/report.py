"""What an import found: counts, bad rows and warnings, as the preview page shows them."""

from collections import Counter
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from tickets.text import excel_padded, excel_padded_column

# Bad rows and warnings kept for display; beyond this only their number is kept, so a file
# that is wrong on every line does not fill memory or the page.
KEEP_PROBLEMS = 200


@dataclass
class LongNumbers:
    """The identifiers longer than EXCEL_DIGITS seen in one column of one file: how many,
    how many end in zeros from the 16th digit on, and where the first such one stands."""

    seen: int = 0
    padded: int = 0
    first_line: int | None = None
    first_value: str = ""


@dataclass
class Problem:
    file: str
    line: int | None
    column: str
    message: str

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


@dataclass
class Report:
    counts: dict[str, Counter] = field(
        default_factory=lambda: {"orders": Counter(), "items": Counter(), "refunds": Counter()}
    )
    files: dict[str, dict] = field(default_factory=dict)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    error_count: int = 0
    warning_count: int = 0
    applied: bool = False
    long_numbers: dict[tuple[str, str], LongNumbers] = field(default_factory=dict)

    def error(self, file: str, line: int | None, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < KEEP_PROBLEMS:
            self.errors.append(Problem(file, line, column, str(message)))

    def warn(self, file: str, line: int | None, column: str, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < KEEP_PROBLEMS:
            self.warnings.append(Problem(file, line, column, str(message)))

    def long_number(self, file: str, line: int, column: str, value: str) -> None:
        """Notes an identifier of more than EXCEL_DIGITS digits read from ``column`` of
        ``file`` at ``line``, for ``check_excel_padding``."""
        seen = self.long_numbers.setdefault((file, column), LongNumbers())
        seen.seen += 1
        if excel_padded(value):
            seen.padded += 1
            if seen.first_line is None:
                seen.first_line, seen.first_value = line, value

    def check_excel_padding(self) -> None:
        """After every row was read: a column where two or more long identifiers, and at least
        half of them, end in zeros from the 16th digit on was saved by Excel as numbers and has
        lost their last digits (issue 12 section 4): an error, so nothing is imported. Fewer
        such numbers are a warning at the first (a real number ends in zeros once in
        thousands: a real export of 10,000 orders holds a few)."""
        for (file, column), seen in self.long_numbers.items():
            if seen.padded == 0:
                continue
            values = {"value": seen.first_value, "column": column, "n": seen.padded}
            if excel_padded_column(seen.seen, seen.padded):
                self.error(
                    file,
                    None,
                    column,
                    _(
                        "“%(column)s”列有 %(n)s 个长编号以 0 结尾（例如“%(value)s”）：文件被 "
                        "Excel 当作数字保存过，15 位以后的数字已经丢失。请从卖家中心重新导出，"
                        "不要用 Excel 打开后再保存。"
                    )
                    % values,
                )
            else:
                self.warn(
                    file,
                    seen.first_line,
                    column,
                    _(
                        "编号“%(value)s”从第 16 位起都是 0：如果文件用 Excel 打开并保存过，"
                        "后面的数字已经丢失，请核对。"
                    )
                    % values,
                )

    def counted(self, kind: str) -> dict[str, int]:
        """What happened to ``kind`` ("orders", "items", "refunds"), without the zeros."""
        return dict(+self.counts[kind])

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def as_dict(self) -> dict:
        return {
            "counts": {kind: self.counted(kind) for kind in self.counts},
            "files": self.files,
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
            "error_count": self.error_count,
            "warning_count": self.warning_count,
            "applied": self.applied,
        }

    def lines(self) -> list[str]:
        """The bad rows and warnings as plain lines (for the command line)."""
        out = []
        for label, problems in (("✗", self.errors), ("!", self.warnings)):
            for p in problems:
                where = f"{p.file}:{p.line}" if p.line else p.file
                column = f" [{p.column}]" if p.column else ""
                out.append(f"{label} {where}{column} {p.message}")
        return out
