"""bench/measuring.py's yardstick: a fixed piece of work that every benchmark prints beside its
figures, so that runs on machines of different speed can be set side by side. Untimed
(QUALITY.md 27): only that it does the same work each time and says what it measured."""

import re

from bench import measuring


def test_the_yardstick_does_the_same_work_every_time():
    assert measuring._yardstick_work() == measuring._yardstick_work() > 0


def test_the_yardstick_line_names_the_figure_and_the_load(monkeypatch):
    monkeypatch.setattr(measuring, "yardstick_ms", lambda rounds=7: 61.25)
    line = measuring.yardstick_line()
    assert line.startswith("machine: yardstick 61.2 ms (bench/measuring.py), load average ")
    assert re.fullmatch(r".*load average \d+\.\d\d, \d+\.\d\d, \d+\.\d\d", line)


def test_the_yardstick_is_the_median_of_its_rounds(monkeypatch):
    ticks = iter([0.0, 0.010, 0.010, 0.040, 0.040, 0.060])  # rounds of 10, 30 and 20 ms
    monkeypatch.setattr(measuring.time, "process_time", lambda: next(ticks))
    monkeypatch.setattr(measuring, "_yardstick_work", lambda: 0)
    assert round(measuring.yardstick_ms(rounds=3), 6) == 20.0
