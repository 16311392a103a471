"""Isolation (隔离管控): orders, sites and rooms, twice-daily checks, alerts, release.

- ``services`` hold every rule (order, extend, transfer, end early, release with its next
  stage, room booking, readings and their alerts, escalation); ``selectors`` every read,
  scoped by the isolated person's residence code through ``core.jurisdiction``.
- Monitoring runs as ``fangkong manage monitor_isolation [--every 300]`` (or the
  ``tasks.run_monitoring`` task): missed checks once per slot, then escalation to the
  village and the township after ``QUARANTINE_ESCALATE_VILLAGE_MINUTES`` (60) and
  ``QUARANTINE_ESCALATE_TOWNSHIP_MINUTES`` (180); the fever line is
  ``QUARANTINE_FEVER_CELSIUS`` (37.3).
- Test results: the order lists its required tests (``RequiredTest``); the testing module
  feeds results with ``services.apply_test_result(person_id=..., sampled_on=..., result=...)``,
  people with the role record them by hand with ``services.record_test_result``.
"""
