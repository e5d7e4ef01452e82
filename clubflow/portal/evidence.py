"""Claim evidence files: checked (type by the first bytes as well as the declared type, size
read in chunks), stored once per content (sha256) in a local folder or an S3-compatible store
(AWS Signature V4, written here: no SDK), one EvidenceFile row per distinct file."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol
from urllib.parse import quote, urlsplit

import httpx
from sqlalchemy import select
from sqlmodel import Session

from clubflow.core.settings import Settings
from domain.models_portal import EvidenceFile

CHUNK = 64 * 1024
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "application/pdf": "pdf",
    "video/mp4": "mp4",
}


class EvidenceRefused(ValueError):
    """A file that is not accepted as evidence; the message is the one line to show."""


def sniff(head: bytes) -> str | None:
    """The type the first bytes say (a renamed .exe says nothing we accept)."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    return None


def read_checked(
    stream: BinaryIO, *, filename: str, declared: str, settings: Settings
) -> tuple[bytes, str]:
    """The file's bytes and its type, or EvidenceRefused. Reads at most one chunk beyond the
    limit: an oversized upload is refused without reading it all."""
    limit = settings.evidence_max_mb * 1024 * 1024
    chunks, size = [], 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise EvidenceRefused(
                f"{filename}: 文件超过 {settings.evidence_max_mb} MB 上限 (file too large)"
            )
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise EvidenceRefused(f"{filename}: 文件为空 (empty file)")
    actual = sniff(data[:16])
    declared = (declared or "").split(";")[0].strip().lower()
    allowed = set(settings.evidence_types)
    if actual is None or actual not in allowed:
        raise EvidenceRefused(
            f"{filename}: 文件内容不是允许的类型（{'、'.join(sorted(allowed))}） (type not allowed)"
        )
    if declared not in (actual, "application/octet-stream", ""):
        raise EvidenceRefused(
            f"{filename}: 声明的类型 {declared} 与文件内容 {actual} 不符 (type mismatch)"
        )
    return data, actual


class EvidenceStore(Protocol):
    def put(self, key: str, data: bytes, content_type: str) -> str:
        """Store `data` under `key` (`<activity code>/<sha256>.<ext>`); returns its location."""
        ...


@dataclass
class LocalStore:
    root: Path

    def put(self, key: str, data: bytes, content_type: str) -> str:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():  # same name = same bytes (content addressed)
            tmp = path.with_suffix(path.suffix + ".part")
            tmp.write_bytes(data)
            tmp.replace(path)
        return str(path)


@dataclass
class S3Store:
    """Path-style PUT to `url` = `<endpoint>/<bucket>` (MinIO, Ceph, AWS...)."""

    url: str
    access_key: str
    secret_key: str
    region: str
    transport: httpx.BaseTransport | None = None

    def put(self, key: str, data: bytes, content_type: str) -> str:
        target = f"{self.url.rstrip('/')}/{key}"
        headers = sigv4_headers(
            "PUT",
            target,
            data,
            access_key=self.access_key,
            secret_key=self.secret_key,
            region=self.region,
            now=datetime.now(UTC),
            extra={"content-type": content_type},
        )
        with httpx.Client(transport=self.transport, timeout=30) as client:
            response = client.put(target, content=data, headers=headers)
        if response.status_code >= 300:
            raise EvidenceRefused(f"证据存储失败 (S3 answered {response.status_code})")
        bucket = urlsplit(self.url).path.strip("/")
        return f"s3://{bucket}/{key}"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sigv4_headers(
    method: str,
    url: str,
    body: bytes,
    *,
    access_key: str,
    secret_key: str,
    region: str,
    now: datetime,
    extra: dict[str, str] | None = None,
    service: str = "s3",
) -> dict[str, str]:
    """The headers of an AWS Signature V4 request (host, x-amz-date, x-amz-content-sha256,
    Authorization) for a request without a query string."""
    parts = urlsplit(url)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    day = stamp[:8]
    payload = hashlib.sha256(body).hexdigest()
    headers = {
        "host": parts.netloc,
        "x-amz-content-sha256": payload,
        "x-amz-date": stamp,
        **{k.lower(): v.strip() for k, v in (extra or {}).items()},
    }
    names = sorted(headers)
    canonical = "\n".join(
        [
            method,
            quote(parts.path or "/", safe="/-_.~"),
            "",
            "".join(f"{n}:{headers[n]}\n" for n in names),
            ";".join(names),
            payload,
        ]
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    key = _hmac(
        _hmac(_hmac(_hmac(f"AWS4{secret_key}".encode(), day), region), service), "aws4_request"
    )
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return headers


def store_for(settings: Settings) -> EvidenceStore:
    """S3 when `evidence_s3_url` is set, else the local folder."""
    if settings.evidence_s3_url:
        return S3Store(
            url=settings.evidence_s3_url,
            access_key=settings.evidence_s3_access_key,
            secret_key=settings.evidence_s3_secret_key.get_secret_value(),
            region=settings.evidence_s3_region,
        )
    return LocalStore(Path(settings.evidence_dir))


def save_evidence(
    *,
    session: Session,
    activity_id: int,
    activity_code: str,
    filename: str,
    content_type: str,
    data: bytes,
    store: EvidenceStore,
    uploaded_by: str,
    now: datetime,
) -> EvidenceFile:
    """Store the checked bytes once and return their row (the same bytes twice: one row)."""
    digest = hashlib.sha256(data).hexdigest()
    existing = session.execute(
        select(EvidenceFile).where(
            EvidenceFile.activity_id == activity_id, EvidenceFile.sha256 == digest
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    location = store.put(f"{activity_code}/{digest}.{EXTENSIONS[content_type]}", data, content_type)
    row = EvidenceFile(
        activity_id=activity_id,
        filename=Path(filename).name[:255] or "evidence",
        content_type=content_type,
        size=len(data),
        sha256=digest,
        location=location,
        uploaded_by=uploaded_by,
        uploaded_at=now,
    )
    session.add(row)
    session.flush()
    return row
