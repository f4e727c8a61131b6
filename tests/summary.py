"""Prints one closing line over every runner's JUnit report (ctest and pytest):
'total: N passed, N failed, N skipped'. Exits 1 when anything failed or a report is missing."""
import sys
import xml.etree.ElementTree as ET

passed = failed = skipped = 0
for path in sys.argv[1:]:
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError):
        print(f"missing test report: {path}")
        failed += 1
        continue
    for suite in [root] if root.tag == "testsuite" else root.iter("testsuite"):
        tests = int(suite.get("tests", 0))
        bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skip = int(suite.get("skipped", 0) or suite.get("disabled", 0))
        passed += tests - bad - skip
        failed += bad
        skipped += skip
print(f"total: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
