"""The e2e tests' pass/fail accounting and the closing line scripts/test.sh's e2e stage counts:
`<suite>: N passed, N failed`."""

import time
import unittest


class Checks:
    """Named checks run in order; `checks(name, fn)` runs one: a falsy result or an exception is a failure.
    Returns the result (None on failure), so later checks can use what an earlier one produced."""

    def __init__(self):
        self.passed = 0
        self.failed = 0

    def __call__(self, name, fn):
        t0 = time.monotonic()
        try:
            r = fn()
            if not r:
                raise AssertionError("check returned false")
            self.passed += 1
            print(f"PASS {name} ({time.monotonic() - t0:.1f}s)", flush=True)
            return r
        except Exception as e:
            self.failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
            return None

    def summary(self, suite):
        """Prints the closing line; returns the exit code."""
        print(f"{suite}: {self.passed} passed, {self.failed} failed", flush=True)
        return 0 if self.failed == 0 else 1


def unittest_main(suite):
    """Runs the calling module's unittest cases, then prints the closing line; returns the exit code."""
    result = unittest.main(exit=False, verbosity=2).result
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - len(result.failures) - len(result.unexpectedSuccesses) - len(result.skipped)
    passed = max(0, passed - sum(1 for t, _ in result.errors if isinstance(t, unittest.TestCase)))
    if result.testsRun == 0 and failed == 0:
        failed = 1  # nothing ran: a module-level failure or a bad filter
    print(f"{suite}: {passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1
