"""What an import found: counts, bad rows and warnings, as the preview page shows them."""

from collections import Counter
from dataclasses import dataclass, field

# Bad rows and warnings kept for display; beyond this only their number is kept, so a file
# that is wrong on every line does not fill memory or the page.
KEEP_PROBLEMS = 200


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

    def error(self, file: str, line: int | None, column: str, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < KEEP_PROBLEMS:
            self.errors.append(Problem(file, line, column, str(message)))

    def warn(self, file: str, line: int | None, column: str, message: str) -> None:
        self.warning_count += 1
        if len(self.warnings) < KEEP_PROBLEMS:
            self.warnings.append(Problem(file, line, column, str(message)))

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
