"""Counts per addon of a pytest JUnit report, and the closing line "N passed, N failed".

    python setup/junit_summary.py JUNIT_XML PYTEST_EXIT_STATUS      (called by setup/test.sh)

Prints a table of passed / failed / skipped tests per suite (the addon, or tests/<dir> for the
top-level tests), then "N passed, N failed". A skipped test counts as a failure, and so do an
empty run, a missing or unreadable report and a pytest that broke (exit status other than 0, 1
or 5, or 1 with nothing failed). Exits 1 when anything failed, else 0.
"""
import collections
import sys
import xml.etree.ElementTree as ET


def main(path, status):
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        print(f"pytest left no report (exit {status})")
        print("0 passed, 1 failed")
        return 1
    counts = collections.defaultdict(collections.Counter)
    for case in root.iter("testcase"):
        cls = case.get("classname", "")
        parts = cls.split(".")
        group = next((p for p in parts if p.startswith("dunning_")), None)
        if group is None:
            group = "tests/" + (parts[1] if len(parts) > 2 and parts[0] == "tests" else "")
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
            elif child.tag == "skipped":
                outcome = "skipped"
        counts[group][outcome] += 1
    total = collections.Counter()
    print()
    print(f"{'suite':<24}{'passed':>8}{'failed':>8}{'skipped':>9}")
    for group in sorted(counts):
        c = counts[group]
        total.update(c)
        print(f"{group:<24}{c['passed']:>8}{c['failed']:>8}{c['skipped']:>9}")
    failed = total["failed"] + total["skipped"]   # a skipped test counts as a failure here
    if total["skipped"]:
        print(f"{total['skipped']} skipped test(s) count as failures (e.g. a browser test without its browser)")
    if not sum(total.values()):
        print("no test ran")
        failed = max(failed, 1)
    if status not in (0, 1, 5) or (status == 1 and not failed):
        failed = max(failed, 1)   # pytest itself broke (collection or internal error)
        print(f"pytest exited with status {status}")
    print(f"{total['passed']} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
