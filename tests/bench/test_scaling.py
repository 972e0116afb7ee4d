"""`gesturemap bench --scaling` prints its table as it measures: the head first, then a row per
grid point (a tiny grid here; the figures themselves belong to the benchmark, not to a test)."""

from __future__ import annotations

from gesturemap.bench import benchmark_module


def test_scaling_rows_come_under_the_table_head(capsys):
    scaling = benchmark_module("bench_scaling")
    rows = scaling.run(grid=((2, 2, 2),), models=("gmm",), repeats=1, frames=20)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [*scaling.HEAD.splitlines(), scaling.format_row(rows[0])]
    assert lines[0].startswith("| model | classes | channels |")
