"""The audit-review tests run inside the 2025 cycle's 审验时间 (seed 001 五: "11 月 14 日—11 月 25 日：市继教委
办公室集中审验"): verdicts are refused outside the cycle's audit period (services/audit_review.in_period)."""
from __future__ import annotations

import pytest

from tests.audit_review.helpers import IN_PERIOD


@pytest.fixture(autouse=True)
def _in_audit_period(clock):
    clock.at(IN_PERIOD, tick=True)
    yield
