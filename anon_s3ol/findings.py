"""What the audit says about one file: its key and its audit row.

The row itself is computed by serving/audit_row.py, the one function the Batch Operations
audit handler calls too, so `anon-s3ol audit PATH` and `anon-s3ol audit s3://... --batch`
say the same about the same object. "Served" means the deployed service would answer the
stripped image (metadata.clean, the Lambdas' own call, with the deployment's defaults);
`removed` is what that strip found and removed, and `found` adds an owner's name or a
camera or lens serial number in the EXIF, and a C2PA manifest.
"""

from __future__ import annotations

from typing import NamedTuple

from serving.audit_row import C2PA, OWNER_OR_SERIAL, AuditRow, audit_image, has_c2pa_manifest, refused_row
from metadata.kinds import GPS

__all__ = ["C2PA", "GPS", "OWNER_OR_SERIAL", "Finding", "examine", "finding", "has_c2pa_manifest", "refusal"]


class Finding(NamedTuple):
    key: str
    format: str | None  # None: not recognised as any image format
    served: bool
    reason: str | None  # why it is refused
    removed: tuple[str, ...]  # kinds the strip removed, sorted
    kept: tuple[str, ...]  # pictures kept beyond the primary (gain maps), sorted
    found: tuple[str, ...]  # removed plus owner/serial and c2pa when present, sorted
    bytes_in: int
    bytes_out: int | None

    @property
    def gps(self) -> bool:
        return GPS in self.found


def finding(key: str, row: AuditRow) -> Finding:
    return Finding(key, *row)


def refusal(key: str, size: int, reason: str, data: bytes | None = None) -> Finding:
    """A refused file's row; its format when the first bytes name one."""
    return finding(key, refused_row(reason, size, data))


def examine(key: str, data: bytes, *, keep_copyright: bool = False) -> Finding:
    return finding(key, audit_image(data, keep_copyright=keep_copyright))
