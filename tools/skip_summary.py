"""How many tests ctest skipped, and why: the reasons GTEST_SKIP gave (or a program's
exit code 77), counted, from ctest's LastTest.log. Printed by scripts/test.sh after
ctest, so "100% passed" never hides what did not run.

    /usr/bin/python3 tools/skip_summary.py build/Testing/Temporary/LastTest.log
"""
import collections
import re
import sys


def main(path):
    try:
        text = open(path, encoding="utf-8", errors="replace").read()
    except OSError as e:
        print(f"skip summary: {e}")
        return
    reasons = collections.Counter()
    examples = {}
    # One block per test: from its "N/M Testing: name" line to its "end time" line.
    for block in re.split(r"\n(?=\d+/\d+ Testing: )", text):
        head = re.match(r"\d+/\d+ Testing: (\S+)", block)
        if not head:
            continue
        skipped = "Skip regular expression found" in block or "Test Skipped" in block or "***Skipped" in block
        if not skipped:
            continue
        m = re.search(r": Skipped\n(.*)\n", block)
        reason = (m.group(1).strip() if m else "") or "skipped (exit code 77 or no reason given)"
        reasons[reason] += 1
        examples.setdefault(reason, head.group(1))
    total = sum(reasons.values())
    if not total:
        print("skipped: none")
        return
    print(f"skipped: {total} tests")
    for reason, n in reasons.most_common():
        print(f"  {n:4d}  {reason}   (e.g. {examples[reason]})")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "build/Testing/Temporary/LastTest.log")
