"""Export of the chains of transmission as an Excel table (.xlsx, written by xlsxwriter).

The table holds what the chain view shows the same reader — cases of their jurisdiction,
generations, clusters — and the export is written to the audit trail like every export of
personal data.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils.translation import gettext as _

from fangkong.core import audit, exports
from fangkong.core.models import AuditEvent

from . import selectors
from .models import CaseStatus, Level


def chain_workbook(user: Any, filters: selectors.CaseFilters, *, channel: str) -> bytes:
    data = selectors.chain_graph(user, filters, with_contacts=True)
    out = io.BytesIO()
    book = exports.workbook(out, {"remove_timezone": True})
    bold = book.add_format({"bold": True})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    parents = {e["target"]: e["source"] for e in data["edges"] if e["kind"] == "infection"}
    by_id = {n["id"]: n for n in data["nodes"]}
    sheet = book.add_worksheet(_("Cases"))
    headers = [
        _("Case"),
        _("Case number"),
        _("Full name"),
        _("Status"),
        _("Region code"),
        _("Onset date"),
        _("Infected by"),
        _("Generation"),
        _("Cluster (source case)"),
    ]
    sheet.write_row(0, 0, headers, bold)
    statuses = dict(CaseStatus.choices)
    row = 1
    for node in data["nodes"]:
        if node["kind"] != "case":
            continue
        parent = by_id.get(parents.get(node["id"], ""))
        sheet.write_row(
            row,
            0,
            [
                node["case_id"],
                node["external_id"],
                node["label"],
                str(statuses.get(node["status"], node["status"])),
                node["region_code"],
            ],
        )
        if node["onset_date"]:
            sheet.write_datetime(row, 5, _as_datetime(node["onset_date"]), day)
        sheet.write_row(
            row,
            6,
            [
                parent["case_id"] if parent else "",
                node["generation"],
                node["cluster"],
            ],
        )
        row += 1
    sheet.autofilter(0, 0, max(row - 1, 1), len(headers) - 1)
    contacts = book.add_worksheet(_("Contacts"))
    contacts.write_row(
        0, 0, [_("Full name"), _("Classification"), _("Region code"), _("Through")], bold
    )
    levels = dict(Level.choices)
    row = 1
    through = {e["target"]: e["source"] for e in data["edges"] if e["kind"] != "infection"}
    for node in data["nodes"]:
        if node["kind"] == "case":
            continue
        via = by_id.get(through.get(node["id"], ""))
        contacts.write_row(
            row,
            0,
            [
                node["label"],
                str(levels[node["kind"]]),
                node["region_code"],
                via["label"] if via else "",
            ],
        )
        row += 1
    clusters = book.add_worksheet(_("Clusters"))
    clusters.write_row(
        0,
        0,
        [
            _("Source case"),
            _("Size"),
            _("Generations"),
            _("Mean serial interval (days)"),
            _("Median serial interval (days)"),
        ],
        bold,
    )
    for i, c in enumerate(data["clusters"], start=1):
        clusters.write_row(
            i,
            0,
            [
                c["source_case_id"],
                c["size"],
                c["generations"],
                c["serial_interval_mean"] if c["serial_interval_mean"] is not None else "",
                c["serial_interval_median"] if c["serial_interval_median"] is not None else "",
            ],
        )
    book.close()
    audit.record(
        user=user,
        kind=AuditEvent.Kind.EXPORT,
        object_type="case",
        channel=channel,
        detail=f"chains.xlsx {sum(1 for n in data['nodes'] if n['kind'] == 'case')}",
    )
    return out.getvalue()


def _as_datetime(day):
    import datetime as dt

    return dt.datetime(day.year, day.month, day.day)
