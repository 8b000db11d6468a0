"""Test-only slow-down, on PYTHONPATH only in the e2e job tests: every image the engine
handles takes ``$CLUSTERLENS_TEST_SLOW_S`` seconds more, so a job lasts long enough to
close the page in the middle of it. Product code holds no such hook."""

import os

if os.environ.get("CLUSTERLENS_TEST_SLOW_S"):
    import time

    from clustering.images import engine

    _delay = float(os.environ["CLUSTERLENS_TEST_SLOW_S"])
    _report = engine.ImageMapper._report

    def _slow_report(self, *args, **kwargs):
        time.sleep(_delay)
        return _report(self, *args, **kwargs)

    engine.ImageMapper._report = _slow_report
