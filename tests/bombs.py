"""Hostile office files for the upload tests (issue 11): zip bombs and their cousins.

``xlsx_bomb(megabytes)``: a valid-looking .xlsx of a few KB per 10 MB whose one sheet
unpacks to ``megabytes`` MB of cells. ``forged_bomb``: the same with the archive directory
claiming a tiny uncompressed size. ``many_members``: a workbook of thousands of parts.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile

OOXML = "http://schemas.openxmlformats.org"
PACKAGE_RELS = f"{OOXML}/package/2006/relationships"
DOCUMENT_RELS = f"{OOXML}/officeDocument/2006/relationships"
SHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml"
PARTS = {
    "[Content_Types].xml": (
        f'<Types xmlns="{OOXML}/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
        'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{SHEET_TYPE}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{SHEET_TYPE}'
        '.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
        f'Type="{DOCUMENT_RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        f'<workbook xmlns="{OOXML}/spreadsheetml/2006/main" xmlns:r="{DOCUMENT_RELS}">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<Relationships xmlns="{PACKAGE_RELS}"><Relationship Id="rId1" '
        f'Type="{DOCUMENT_RELS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    ),
}
SHEET = "xl/worksheets/sheet1.xml"


@functools.lru_cache(maxsize=4)
def xlsx_bomb(megabytes: int = 64) -> bytes:
    row = b"<row>" + b'<c t="inlineStr"><is><t>AAAAAAAAAAAAAAAA</t></is></c>' * 20 + b"</row>"
    chunk = row * 1000
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as book:
        for name, text in PARTS.items():
            book.writestr(name, text)
        with book.open(SHEET, "w", force_zip64=True) as sheet:
            sheet.write(f'<worksheet xmlns="{OOXML}/spreadsheetml/2006/main"><sheetData>'.encode())
            for _ in range(megabytes * 2**20 // len(chunk)):
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def forged_bomb(megabytes: int = 64) -> bytes:
    """A bomb whose central directory says the sheet unpacks to 1,000 bytes."""
    data = bytearray(xlsx_bomb(megabytes))
    book = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = book.getinfo(SHEET)
    # The central directory entry of the sheet: find its signature followed by the name.
    name = SHEET.encode()
    at = 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        name_length = struct.unpack("<H", data[at + 28 : at + 30])[0]
        if data[at + 46 : at + 46 + name_length] == name:
            break
        at += 4
    extra_length = struct.unpack("<H", data[at + 30 : at + 32])[0]
    extra_at = at + 46 + name_length
    if struct.unpack("<I", data[at + 24 : at + 28])[0] == 0xFFFFFFFF:
        # ZIP64: the sizes live in the extra field (header id 1: uncompressed first).
        extra = data[extra_at : extra_at + extra_length]
        offset = extra.index(b"\x01\x00") + 4
        struct.pack_into("<Q", data, extra_at + offset, 1000)
    else:
        struct.pack_into("<I", data, at + 24, 1000)
    assert zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo(SHEET).file_size == 1000
    del info
    return bytes(data)


def many_members(count: int = 5000) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
        for name, text in PARTS.items():
            book.writestr(name, text)
        book.writestr(SHEET, f'<worksheet xmlns="{OOXML}/spreadsheetml/2006/main"/>')
        for i in range(count):
            book.writestr(f"xl/media/image{i}.xml", "x")
    return out.getvalue()
