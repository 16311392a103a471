"""The printable release notice (解除隔离通知书) as a Word document, in Chinese.

Built with python-docx from live data (no template file to drift out of date). The text is
English msgids rendered under the Chinese translation, so the wording is reviewed with the
rest of the catalogue. The ID number is shown as the requesting user may see it, and
audited when unmasked.
"""

from __future__ import annotations

import io
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import IsolationOrder, OrderStatus
from .selectors import id_numbers_for

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
FONT = "SimSun"  # 宋体: present on every Chinese Windows installation that will print this


def _day(value: Any) -> str:
    local = timezone.localtime(value) if hasattr(value, "tzinfo") else value
    return f"{local.year}年{local.month}月{local.day}日"


def _set_font(document: Any) -> None:
    # python-docx (and lxml) load only when a notice is printed, not with every request.
    from docx.oxml.ns import qn
    from docx.shared import Pt

    style = document.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)


def release_notice(
    order: IsolationOrder, user: Any, *, channel: str = "web", request: Any = None
) -> bytes:
    """The notice for a released order; for an active one, a draft marked as such.

    The ID number printed is audited like any other unmasked read.
    """
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    with translation.override("zh-hans"):
        document = Document()
        _set_font(document)
        title = document.add_paragraph()
        title.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = title.add_run(_("Notice of release from isolation"))
        run.bold = True
        if order.status != OrderStatus.RELEASED:
            document.add_paragraph(_("DRAFT — this isolation has not been released"))
        person = order.person
        id_number = id_numbers_for(user, [order], channel=channel, request=request)[order.pk]
        document.add_paragraph(
            _("%(name)s (ID number %(id)s):") % {"name": person.name, "id": id_number or "—"}
        )
        document.add_paragraph(
            _("You have been under %(kind)s at %(place)s since %(start)s.")
            % {
                "kind": order.get_kind_display(),
                "place": order.address or "—",
                "start": _day(order.starts_at),
            }
        )
        tests = list(order.tests.all())
        if tests:
            lines = [
                _("day %(day)s: %(result)s (%(sampled)s)")
                % {
                    "day": t.day,
                    "result": t.get_result_display(),
                    "sampled": _day(t.sampled_on) if t.sampled_on else "—",
                }
                for t in tests
            ]
            document.add_paragraph(_("Required tests: %(tests)s.") % {"tests": "；".join(lines)})
        released = order.closed_at if order.status == OrderStatus.RELEASED else None
        document.add_paragraph(
            _("Your isolation is released as of %(date)s.")
            % {"date": _day(released) if released else "____年__月__日"}
        )
        if order.override_reason:
            document.add_paragraph(
                _("Released before the rules were met, with approval: %(reason)s")
                % {"reason": order.override_reason}
            )
        following = order.next_orders.filter(status=OrderStatus.ACTIVE).first()
        if following is not None:
            document.add_paragraph(
                _(
                    "Please continue with %(kind)s until %(end)s and keep taking your temperature "
                    "twice a day."
                )
                % {"kind": following.get_kind_display(), "end": _day(following.ends_at)}
            )
        else:
            document.add_paragraph(
                _("Please keep watching your health for 14 days and report any fever at once.")
            )
        signature = document.add_paragraph(
            _("Epidemic prevention and control headquarters") + "\n" + _day(timezone.now())
        )
        signature.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        buffer = io.BytesIO()
        document.save(buffer)
        return buffer.getvalue()
