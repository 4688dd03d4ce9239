"""What the desk depends on, kept true in three places: ``pyproject.toml`` (what is asked for),
``requirements.lock`` (the pins ``make`` installs with) and the README's "Why each dependency
is here" (issue 17: the lock pinned factory_boy and Faker that nothing used, django-htmx was
installed for no page, and honcho, which only ``make run`` needs, was a runtime dependency)."""

import ast
import re
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
# Runtime dependencies the code never imports by name, and what uses them instead.
USED_WITHOUT_IMPORT = {
    "psycopg": "Django's PostgreSQL backend loads it (DATABASE_URL)",
}


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _asked_for() -> tuple[list[Requirement], list[Requirement]]:
    project = _project()
    runtime = [Requirement(r) for r in project["dependencies"]]
    dev = [Requirement(r) for r in project["optional-dependencies"]["dev"]]
    return runtime, dev


def _needed(requirements: list[Requirement]) -> set[str]:
    """Every distribution the requirements pull in, by the installed packages' metadata."""
    seen: dict[str, set[str]] = {}
    stack = list(requirements)
    while stack:
        requirement = stack.pop()
        name, extras = _name(requirement.name), set(requirement.extras)
        if name in seen and extras <= seen[name]:
            continue
        seen.setdefault(name, set()).update(extras)
        for line in metadata.distribution(requirement.name).requires or []:
            needed = Requirement(line)
            if needed.marker and not any(
                needed.marker.evaluate({"extra": extra}) for extra in (extras or {""})
            ):
                continue
            stack.append(needed)
    return set(seen)


def _pins() -> list[str]:
    lines = (ROOT / "requirements.lock").read_text().splitlines()
    return [_name(line.split("==")[0]) for line in lines if "==" in line]


def test_the_lock_pins_exactly_what_the_project_asks_for():
    runtime, dev = _asked_for()
    needed = _needed(runtime + dev)
    pins = _pins()
    assert sorted(set(pins) - needed) == [], "pinned, but nothing asks for it"
    assert sorted(needed - set(pins)) == [], "asked for, but not pinned"


def _imported_top_level_modules() -> set[str]:
    modules = set()
    for package in ("aftersales", "tickets", "finance_exports"):
        for path in (ROOT / package).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.Import):
                    modules.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module.split(".")[0])
    return modules


def _configured_top_level_modules() -> set[str]:
    """The packages the settings load by dotted path (apps, middleware, storages)."""
    from django.conf import settings

    paths = [*settings.INSTALLED_APPS, *settings.MIDDLEWARE]
    paths += [storage["BACKEND"] for storage in settings.STORAGES.values()]
    return {path.split(".")[0] for path in paths}


def test_every_runtime_dependency_is_used_by_the_desk():
    runtime, _dev = _asked_for()
    distributions = metadata.packages_distributions()
    modules = _imported_top_level_modules() | _configured_top_level_modules()
    used = {_name(dist) for module in modules for dist in distributions.get(module, [])}
    unused = [r.name for r in runtime if _name(r.name) not in used | set(USED_WITHOUT_IMPORT)]
    assert unused == []


def test_honcho_is_for_make_run_only():
    runtime, dev = _asked_for()
    assert "honcho" not in {_name(r.name) for r in runtime}
    assert "honcho" in {_name(r.name) for r in dev}
    # `make run` installs the dev extra, so it finds honcho on a fresh machine.
    makefile = (ROOT / "Makefile").read_text()
    assert "-e '.[dev]'" in makefile
    assert "honcho start" in makefile


def _readme_table() -> set[str]:
    """The package names in the first column of the README's dependency table."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Why each dependency is here", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or cells[0] in ("package", "") or set(cells[0]) <= {"-"}:
            continue
        for part in cells[0].split(","):
            names.add(_name(part.strip().split()[0].split("[")[0]))
    return names


def test_the_readme_says_why_of_each_dependency_and_of_no_other():
    runtime, dev = _asked_for()
    asked = {_name(r.name) for r in runtime + dev}
    assert _readme_table() == asked
