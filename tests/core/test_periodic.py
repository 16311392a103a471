"""Periodic jobs run when due, survive a failing neighbour, and run from `fangkong worker`."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from fangkong.core import periodic


@pytest.fixture
def isolated_jobs(monkeypatch):
    monkeypatch.setattr(periodic, "_JOBS", {})


def test_jobs_run_when_due_and_a_failure_does_not_stop_the_rest(isolated_jobs, db):
    calls: list[str] = []

    def boom():
        raise RuntimeError("broken job")

    periodic.register("a", 60, lambda: calls.append("a"))
    periodic.register("boom", 60, boom)
    periodic.register("b", 10, lambda: calls.append("b"))
    assert periodic.run_due(now=1000.0) == ["a", "b"]
    assert periodic.run_due(now=1005.0) == []
    assert periodic.run_due(now=1010.0) == ["b"]
    assert periodic.run_due(now=1060.0) == ["a", "b"]
    assert calls == ["a", "b", "b", "a", "b"]


def test_quarantine_registers_its_monitor():
    assert "quarantine.monitoring" in {job.name for job in periodic.jobs()}


@pytest.mark.django_db(transaction=True)
def test_worker_batch_runs_periodic_jobs_then_exits(isolated_jobs):
    calls: list[str] = []
    periodic.register("tick", 300, lambda: calls.append("tick"))
    call_command("worker", "--batch", stdout=io.StringIO(), stderr=io.StringIO())
    assert calls == ["tick"]
