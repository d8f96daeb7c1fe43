"""Where bundles live: one small interface, an S3 bucket or a local folder behind it.

A store holds, under its root (``s3://bucket/prefix`` or a folder)::

    bundles/<version>.tar.gz    the archive (see dataops.delivery.bundle)
    bundles/<version>.json      its record: bundle.json plus who published it and when
    current.json                the pointer: the current version and the last changes

A bundle is complete once its record exists: :meth:`BundleStore.put_bundle`
writes the archive first and the record last, and :meth:`BundleStore.list_bundles`
lists records, so a bundle whose upload was interrupted is never listed or
made current. The pointer is the one mutable object. It changes only by
:meth:`BundleStore.swap_pointer`, a compare-and-swap on the token
:meth:`BundleStore.read_pointer` returned: on S3 a conditional PUT
(``If-Match`` on the ETag read, ``If-None-Match: *`` for the first one), in
a folder a write-then-rename under an exclusive ``flock``. Two writers that
read the same pointer cannot both replace it: the second gets
:class:`~dataops.delivery.errors.PointerConflict` and must read it again.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import json
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from dataops.delivery.bundle import BundleInfo, short
from dataops.delivery.errors import DeliveryError, PointerConflict

POINTER_FORMAT = 1
POINTER_KEY = "current.json"
BUNDLES = "bundles"
# How many pointer changes the pointer remembers (an audit trail, not the versions).
HISTORY_LIMIT = 100

# The pointer's compare-and-swap token: an ETag on S3, a content hash in a folder.
Token = str


@dataclass(frozen=True)
class StoredBundle:
    """A published bundle: its info, and who published it and when (UTC, ISO 8601)."""

    info: BundleInfo
    published_at: str
    published_by: str

    @property
    def version(self) -> str:
        return self.info.version

    def dumps(self) -> bytes:
        record = {**self.info.to_json(), "published_at": self.published_at, "published_by": self.published_by}
        return (json.dumps(record, indent=2, sort_keys=True) + "\n").encode()

    @classmethod
    def loads(cls, data: bytes) -> StoredBundle:
        """Raises ValueError when ``data`` is not a bundle's record."""
        record = json.loads(data)
        if not isinstance(record, dict) or not {"published_at", "published_by"} <= set(record):
            raise ValueError("not a bundle's record")
        return cls(BundleInfo.from_json(record), record["published_at"], record["published_by"])


@dataclass(frozen=True)
class PointerChange:
    version: str
    action: str  # "publish" or "rollback"
    at: str
    by: str


@dataclass(frozen=True)
class Pointer:
    """The current version, and the changes that led to it (oldest first, the last one current)."""

    version: str
    history: tuple[PointerChange, ...] = ()

    def changed_to(self, change: PointerChange) -> Pointer:
        return replace(self, version=change.version, history=(*self.history, change)[-HISTORY_LIMIT:])

    @classmethod
    def first(cls, change: PointerChange) -> Pointer:
        return cls(change.version, (change,))

    def dumps(self) -> bytes:
        data = {
            "format": POINTER_FORMAT,
            "version": self.version,
            "history": [vars(change) for change in self.history],
        }
        return (json.dumps(data, indent=2) + "\n").encode()

    @classmethod
    def loads(cls, data: bytes, location: str) -> Pointer:
        try:
            raw = json.loads(data)
            return cls(raw["version"], tuple(PointerChange(**change) for change in raw["history"]))
        except (ValueError, KeyError, TypeError):
            raise DeliveryError(
                f"the pointer {location}/{POINTER_KEY} is unreadable: run `dataops rollback VERSION` "
                "to make a version current again."
            ) from None


class BundleStore(ABC):
    """Stores bundles and the pointer to the current one. See the module's docstring."""

    #: Where the store is, as the user configured it (for messages).
    location: str

    @abstractmethod
    def put_bundle(self, stored: StoredBundle, archive: Path) -> None:
        """Uploads ``archive`` then its record; does nothing when the bundle is already stored."""

    @abstractmethod
    def record(self, version: str) -> StoredBundle | None:
        """The bundle's record; None when the bundle is not (completely) stored."""

    def has_bundle(self, version: str) -> bool:
        return self.record(version) is not None

    @abstractmethod
    def list_bundles(self) -> list[StoredBundle]:
        """Every stored bundle, oldest publication first."""

    @abstractmethod
    def get_archive(self, version: str, dest: Path) -> None:
        """Downloads the bundle's archive to the file ``dest``."""

    @abstractmethod
    def delete_bundle(self, version: str) -> None:
        """Removes the record (so the bundle is no longer listed), then the archive."""

    @abstractmethod
    def read_pointer(self) -> tuple[Pointer | None, Token | None]:
        """The pointer and its token; ``(None, None)`` before the first publish."""

    @abstractmethod
    def swap_pointer(self, expected: Token | None, new: Pointer) -> Token:
        """Writes ``new`` if the pointer's token is still ``expected`` (None: no pointer yet).

        Raises PointerConflict otherwise, leaving the pointer as it is.
        """

    def _missing(self, version: str) -> DeliveryError:
        return DeliveryError(f"no bundle {short(version)} in {self.location}: see `dataops versions`.")


def _load_record(data: bytes, where: str) -> StoredBundle:
    try:
        return StoredBundle.loads(data)
    except ValueError:
        raise DeliveryError(f"{where} is not a bundle's record: remove it.") from None


def _by_publication(bundles: list[StoredBundle]) -> list[StoredBundle]:
    return sorted(bundles, key=lambda b: (b.published_at, b.version))


class LocalBundleStore(BundleStore):
    """A store in a folder (the local stacks): renames for atomicity, ``flock`` for the swap."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.location = str(self.root)

    def _archive(self, version: str) -> Path:
        return self.root / BUNDLES / f"{version}.tar.gz"

    def _record(self, version: str) -> Path:
        return self.root / BUNDLES / f"{version}.json"

    def put_bundle(self, stored: StoredBundle, archive: Path) -> None:
        if self.has_bundle(stored.version):
            return
        (self.root / BUNDLES).mkdir(parents=True, exist_ok=True)
        with archive.open("rb") as source:
            _write_atomically(self._archive(stored.version), source)
        _write_atomically_bytes(self._record(stored.version), stored.dumps())

    def record(self, version: str) -> StoredBundle | None:
        try:
            return _load_record(self._record(version).read_bytes(), str(self._record(version)))
        except FileNotFoundError:
            return None

    def list_bundles(self) -> list[StoredBundle]:
        found = []
        for path in sorted((self.root / BUNDLES).glob("*.json")):
            try:
                found.append(_load_record(path.read_bytes(), str(path)))
            except FileNotFoundError:
                continue  # deleted since it was listed
        return _by_publication(found)

    def get_archive(self, version: str, dest: Path) -> None:
        if not self.has_bundle(version):
            raise self._missing(version)
        try:
            shutil.copyfile(self._archive(version), dest)
        except FileNotFoundError:
            raise self._missing(version) from None

    def delete_bundle(self, version: str) -> None:
        self._record(version).unlink(missing_ok=True)
        self._archive(version).unlink(missing_ok=True)

    def read_pointer(self) -> tuple[Pointer | None, Token | None]:
        try:
            data = (self.root / POINTER_KEY).read_bytes()
        except FileNotFoundError:
            return None, None
        return Pointer.loads(data, self.location), _token(data)

    def swap_pointer(self, expected: Token | None, new: Pointer) -> Token:
        self.root.mkdir(parents=True, exist_ok=True)
        with self._locked():
            _, token = self.read_pointer()
            if token != expected:
                raise PointerConflict(f"the current version in {self.location} changed while this command ran.")
            data = new.dumps()
            _write_atomically_bytes(self.root / POINTER_KEY, data)
            return _token(data)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        # flock on a descriptor of our own: excludes other processes and other threads alike.
        with open(self.root / ".pointer.lock", "a+b") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _token(data: bytes) -> Token:
    return hashlib.sha256(data).hexdigest()


def _write_atomically_bytes(path: Path, data: bytes) -> None:
    _write_atomically(path, io.BytesIO(data))


def _write_atomically(path: Path, source) -> None:
    """Writes ``path`` whole or not at all: a temporary file, flushed to disk, then renamed."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(source, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


class S3BundleStore(BundleStore):
    """A store in an S3 bucket, through boto3 (any endpoint: AWS, or an S3-compatible server)."""

    def __init__(self, bucket: str, prefix: str, client):
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client
        self.location = f"s3://{bucket}/{self.prefix}" if self.prefix else f"s3://{bucket}"

    def _key(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _archive(self, version: str) -> str:
        return self._key(f"{BUNDLES}/{version}.tar.gz")

    def _record(self, version: str) -> str:
        return self._key(f"{BUNDLES}/{version}.json")

    def put_bundle(self, stored: StoredBundle, archive: Path) -> None:
        if self.has_bundle(stored.version):
            return
        with self._errors(), archive.open("rb") as body:
            self.client.put_object(
                Bucket=self.bucket, Key=self._archive(stored.version), Body=body, ContentType="application/gzip"
            )
            self.client.put_object(
                Bucket=self.bucket,
                Key=self._record(stored.version),
                Body=stored.dumps(),
                ContentType="application/json",
            )

    def record(self, version: str) -> StoredBundle | None:
        found = self._get(self._record(version))
        return _load_record(found[0], f"s3://{self.bucket}/{self._record(version)}") if found else None

    def list_bundles(self) -> list[StoredBundle]:
        found = []
        with self._errors():
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(f"{BUNDLES}/")
            )
            keys = [obj["Key"] for page in pages for obj in page.get("Contents", ()) if obj["Key"].endswith(".json")]
        for key in keys:
            data = self._get(key)
            if data is not None:  # else deleted since it was listed
                found.append(_load_record(data[0], f"s3://{self.bucket}/{key}"))
        return _by_publication(found)

    def get_archive(self, version: str, dest: Path) -> None:
        if not self.has_bundle(version):
            raise self._missing(version)
        from botocore.exceptions import ClientError

        with self._errors():
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=self._archive(version))
            except ClientError as exc:
                if _code(exc) in {"NoSuchKey", "404"}:
                    raise self._missing(version) from None
                raise
            with dest.open("wb") as out:
                shutil.copyfileobj(response["Body"], out)

    def delete_bundle(self, version: str) -> None:
        with self._errors():
            self.client.delete_object(Bucket=self.bucket, Key=self._record(version))
            self.client.delete_object(Bucket=self.bucket, Key=self._archive(version))

    def read_pointer(self) -> tuple[Pointer | None, Token | None]:
        found = self._get(self._key(POINTER_KEY))
        if found is None:
            return None, None
        data, etag = found
        return Pointer.loads(data, self.location), etag

    def swap_pointer(self, expected: Token | None, new: Pointer) -> Token:
        from botocore.exceptions import ClientError

        condition = {"IfMatch": expected} if expected is not None else {"IfNoneMatch": "*"}
        with self._errors():
            try:
                response = self.client.put_object(
                    Bucket=self.bucket,
                    Key=self._key(POINTER_KEY),
                    Body=new.dumps(),
                    ContentType="application/json",
                    **condition,
                )
            except ClientError as exc:
                # 412: the pointer changed; 409: a concurrent conditional write won; 404: it was removed.
                if _code(exc) in {"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey", "412", "409"}:
                    raise PointerConflict(
                        f"the current version in {self.location} changed while this command ran."
                    ) from None
                raise
        return response["ETag"]

    def _get(self, key: str) -> tuple[bytes, Token] | None:
        from botocore.exceptions import ClientError

        with self._errors():
            try:
                response = self.client.get_object(Bucket=self.bucket, Key=key)
            except ClientError as exc:
                if _code(exc) in {"NoSuchKey", "404"}:
                    return None
                raise
            return response["Body"].read(), response["ETag"]

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """S3's refusals (no bucket, no access, no connection) as one line naming the store."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise DeliveryError(
                f"{self.location}: {error.get('Code', 'error')}: {error.get('Message', exc)} "
                "(check DATAOPS_BUNDLE_STORE and the AWS credentials)."
            ) from None
        except BotoCoreError as exc:
            raise DeliveryError(
                f"{self.location}: {exc} (check DATAOPS_BUNDLE_STORE, the S3 endpoint and the AWS credentials)."
            ) from None


def _code(exc) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def open_store(location: str, *, endpoint_url: str | None = None, region: str | None = None) -> BundleStore:
    """The store at ``location``: ``s3://bucket[/prefix]`` or a local folder."""
    if location.startswith("s3://"):
        bucket, _, prefix = location[len("s3://") :].partition("/")
        if not bucket:
            raise DeliveryError(f"DATAOPS_BUNDLE_STORE={location!r} names no bucket: use s3://BUCKET/PREFIX.")
        import boto3

        return S3BundleStore(bucket, prefix, boto3.client("s3", endpoint_url=endpoint_url, region_name=region))
    if "://" in location:
        raise DeliveryError(
            f"DATAOPS_BUNDLE_STORE={location!r} is neither s3://BUCKET/PREFIX nor a local folder."
        )
    return LocalBundleStore(Path(location).expanduser())
