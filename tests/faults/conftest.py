"""Prints the fault matrix (sources × faults) after a run that tested any of its cells."""

from __future__ import annotations

import pytest

from tests.faults import matrix


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not matrix.RESULTS:
        return
    rows = [row() for row in matrix.ROWS]
    terminalreporter.section("fault matrix (✓ passed, ✗ failed, · not run, n.a. not applicable)")
    for line in matrix.render(matrix.RESULTS, rows).splitlines():
        terminalreporter.write_line(line)
