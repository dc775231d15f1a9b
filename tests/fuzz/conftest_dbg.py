from tests.fuzz.oracle import TALLY


def pytest_terminal_summary(terminalreporter):
    seen = set()
    for p in TALLY.problems:
        k = p[:90]
        if k in seen:
            continue
        seen.add(k)
        terminalreporter.write_line(p[:400])
