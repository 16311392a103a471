"""Checks on uploaded files before anything parses them (issue 11: the zip bomb).

An .xlsx (or .docx, .ods) is a zip archive; a 1.2 MB one can unpack into gigabytes of
shared strings and take the web server or the worker down with it. Every parser of uploaded
office files calls :func:`check_archive` first. It reads the archive's directory and then
inflates every member once, counting bytes without keeping them, so it uses a few MB of
memory whatever the file says about itself (a forged size in the directory is caught by
the count), and it stops at the first limit passed:

- members: at most :data:`MAX_MEMBERS` (a workbook has a dozen);
- uncompressed total: at most ``max_total`` bytes (the caller's limit for its kind of file);
- ratio: a member above 1 MB inflating more than :data:`MAX_RATIO` times its compressed
  size is refused (real sheets compress 5 to 30 times; bombs thousands of times);
- compression methods: stored and deflate only (what Excel, WPS and LibreOffice write).

:func:`check_size` refuses a file above a size in bytes. Both raise :class:`UnsafeUpload`
with a Chinese sentence for the cadre.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.utils import timezone

MAX_MEMBERS = 1000
MAX_RATIO = 100
RATIO_FROM_BYTES = 1024 * 1024
DEFAULT_MAX_TOTAL = 256 * 1024 * 1024
_CHUNK = 1 << 20


class UnsafeUpload(ValueError):
    """The upload is refused before parsing; ``message`` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _mb(n: int) -> str:
    return f"{n / 1048576:.0f} MB" if n >= 1048576 else f"{n / 1024:.0f} KB"


def max_total_default() -> int:
    return int(getattr(settings, "FANGKONG_UPLOAD_MAX_UNPACKED_BYTES", DEFAULT_MAX_TOTAL))


def check_size(size: int, limit: int) -> None:
    if size > limit:
        raise UnsafeUpload(f"文件过大（{_mb(size)}），上限为 {_mb(limit)}；请拆分后分批上传")


def is_zip(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04")


def check_archive(source: bytes | Path | str, *, max_total: int | None = None) -> None:
    """Refuse a zip-based office file that unpacks beyond the limits (see module doc).
    ``source``: the file's bytes or its path. A file that is not a zip at all is left to
    the parser (it says what is wrong with it)."""
    limit = max_total_default() if max_total is None else max_total
    if isinstance(source, bytes | bytearray):
        if not is_zip(bytes(source[:4])):
            return
        _check(io.BytesIO(source), limit)
        return
    with Path(source).open("rb") as handle:
        if not is_zip(handle.read(4)):
            return
        handle.seek(0)
        _check(handle, limit)


def _check(handle: BinaryIO, limit: int) -> None:
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, OSError, ValueError):
        raise UnsafeUpload("文件已损坏，无法作为 Excel/Word 文件打开") from None
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise UnsafeUpload(
            f"文件包含 {len(members):,} 个部件，超过上限 {MAX_MEMBERS:,}：不是正常的表格或文档"
        )
    declared = sum(m.file_size for m in members)
    if declared > limit:
        raise UnsafeUpload(_too_big(declared, limit))
    total = 0
    for member in members:
        total += _inflated_size(handle, member, limit - total)


def _too_big(size: int, limit: int) -> str:
    return (
        f"文件解压后达 {_mb(size)}，超过上限 {_mb(limit)}："
        "可能是异常压缩的文件；请另存为普通 .xlsx 或拆分后再上传"
    )


def _inflated_size(handle: BinaryIO, member: zipfile.ZipInfo, room: int) -> int:
    """The true inflated size of ``member`` (read from its compressed bytes, never from the
    directory), refused as soon as it passes ``room`` or the ratio."""
    if member.is_dir() or member.compress_size == 0:
        return 0
    handle.seek(member.header_offset)
    header = handle.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise UnsafeUpload("文件已损坏，无法作为 Excel/Word 文件打开")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    handle.seek(member.header_offset + 30 + name_length + extra_length)
    if member.compress_type == zipfile.ZIP_STORED:
        size = member.compress_size
        if size > room:
            raise UnsafeUpload(_too_big(size, room))
        return size
    if member.compress_type != zipfile.ZIP_DEFLATED:
        raise UnsafeUpload("文件使用了不支持的压缩方式：请用 Excel 或 WPS 另存为 .xlsx 后再上传")
    inflater = zlib.decompressobj(-15)
    left = member.compress_size
    size = 0
    ratio_cap = max(RATIO_FROM_BYTES, member.compress_size * MAX_RATIO)
    while left > 0 and not inflater.eof:
        chunk = handle.read(min(_CHUNK, left))
        if not chunk:
            break
        left -= len(chunk)
        data = chunk
        while data:
            try:
                out = inflater.decompress(data, _CHUNK)
            except zlib.error:
                raise UnsafeUpload("文件已损坏，无法作为 Excel/Word 文件打开") from None
            size += len(out)
            if size > room:
                raise UnsafeUpload(_too_big(size, room))
            if size > ratio_cap:
                raise UnsafeUpload(
                    f"文件中的“{member.filename[:60]}”压缩比异常（超过 {MAX_RATIO} 倍）："
                    "可能是恶意构造的文件，已拒绝"
                )
            data = inflater.unconsumed_tail
    return size


# ------------------------------------------------------------------ stored uploads and quota

DEFAULT_QUOTA_BYTES = 1024 * 1024 * 1024  # per user per 24 hours
DEFAULT_QUOTA_FILES = 100


def quota() -> tuple[int, int]:
    """(bytes, files) one user may upload in 24 hours for the worker."""
    return (
        int(getattr(settings, "FANGKONG_UPLOAD_QUOTA_BYTES", DEFAULT_QUOTA_BYTES)),
        int(getattr(settings, "FANGKONG_UPLOAD_QUOTA_FILES", DEFAULT_QUOTA_FILES)),
    )


def quota_left(user: Any) -> tuple[int, int]:
    """What ``user`` may still upload in the current 24 hours: (bytes, files)."""
    from django.db.models import Count, Sum

    from .models import Upload

    if user is None:  # the operator at the command line
        return (1 << 62, 1 << 30)
    since = timezone.now() - dt.timedelta(hours=24)
    used = Upload.objects.filter(user=user, at__gte=since).aggregate(
        size=Sum("size"), files=Count("id")
    )
    max_bytes, max_files = quota()
    return (max_bytes - (used["size"] or 0), max_files - used["files"])


def private_dir(path: Path) -> Path:
    """``path`` created if needed, readable by the server's user alone (0700)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path


@dataclass
class Stored:
    path: Path
    size: int
    digest: str


def store_private(
    chunks: Iterable[bytes], folder: Path, *, limit: int, user: Any, kind: str, file_name: str
) -> Stored:
    """Write an upload to a new file of ``folder`` readable by the server's user alone
    (0600), counting it against the user's quota and refusing it past ``limit`` bytes or
    past the quota (the partial file is removed). Returns the file, its size and SHA-256;
    the caller renames or deletes the file and records :func:`record_upload`."""
    bytes_left, files_left = quota_left(user)
    if files_left <= 0:
        raise UnsafeUpload(
            f"24 小时内上传的文件已达上限（{quota()[1]} 个），请明天再传或联系管理员调整"
        )
    private_dir(folder)
    descriptor, name = tempfile.mkstemp(prefix="upload-", dir=folder)  # 0600
    path = Path(name)
    digest = hashlib.sha256()
    size = 0
    try:
        with os.fdopen(descriptor, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise UnsafeUpload(f"文件过大，上限为 {_mb(limit)}；请拆分后分批上传")
                if size > bytes_left:
                    raise UnsafeUpload(
                        f"24 小时内上传的数据已达上限（{_mb(quota()[0])}），"
                        "请明天再传或联系管理员调整"
                    )
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Stored(path, size, digest.hexdigest())


def record_upload(user: Any, kind: str, file_name: str, stored: Stored) -> None:
    from .models import Upload

    Upload.objects.create(
        user=user if getattr(user, "pk", None) else None,
        kind=kind[:40],
        file_name=file_name[:200],
        size=stored.size,
        digest=stored.digest,
    )


def discard(path: str | Path, digest: str = "") -> None:
    """Delete a stored upload after its import; its digest and size stay recorded."""
    from .models import Upload

    Path(path).unlink(missing_ok=True)
    if digest:
        Upload.objects.filter(digest=digest, deleted_at__isnull=True).update(
            deleted_at=timezone.now()
        )
