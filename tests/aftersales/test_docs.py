"""The README and docs/ hold in a clone with nothing around it: they speak in the project's
own words, never pointing at a tracker a clone does not have ("issue 5", "issue 13 section 3",
"the issue asks for"), nor at files outside the repository; the seed's time at a million
orders is the measured one, not a projection."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r"\bissues? \d+|\bthe issues?\b|\btracker\b|\.\./shared|shared/DOMAIN", re.I)


def _pages() -> dict[str, str]:
    pages = {str(path.relative_to(ROOT)): path.read_text() for path in ROOT.glob("docs/*.md")}
    pages["README.md"] = (ROOT / "README.md").read_text()
    return pages


def test_the_readme_and_docs_point_at_nothing_outside_the_repository():
    found = [
        f"{name}: {match.group(0)!r}"
        for name, text in _pages().items()
        for match in OUTSIDE.finditer(text)
    ]
    assert found == []


def test_the_readme_gives_the_measured_time_of_the_million_order_seed():
    readme = (ROOT / "README.md").read_text()
    assert "projected" not in readme
    assert "16 min 9 s" in readme
    assert "16 min 9 s" in (ROOT / "bench" / "README.md").read_text()


def test_every_variable_the_settings_read_is_in_the_readme():
    """The README's "Configuration" table holds every environment variable the settings read
    (issue 15: the production section's environment table)."""
    settings_source = (ROOT / "aftersales" / "settings.py").read_text()
    read = set(
        re.findall(
            r"""(?:env_(?:str|bool|int|decimal|list)|_env_clock|_env_\w+)\(\s*"([A-Z][A-Z0-9_]+)\"""",
            settings_source,
        )
    )
    assert {"DATABASE_URL", "LOG_FORMAT", "SENTRY_DSN", "BEHIND_PROXY"} <= read
    readme = (ROOT / "README.md").read_text()
    configuration = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = sorted(name for name in read if f"`{name}`" not in configuration)
    assert missing == []


def test_the_production_section_says_how_to_run_beat_once_and_back_up():
    readme = (ROOT / "README.md").read_text()
    production = readme.split("## Production: more than one machine", 1)[1].split("\n## ", 1)[0]
    for needed in (
        "**exactly one**",
        "/readyz",
        "migrate",
        "pg_dump",
        "point-in-time",
        "versioning",
        "replication",
        "test_beat_once.py",
        "compose.yaml",
    ):
        assert needed in production, needed
