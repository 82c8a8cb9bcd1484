"""``S3BlobStore``: the ``BlobStore`` seam on S3 or an S3-compatible server (boto3).

``s3://<bucket-prefix>[/<key-prefix>][?endpoint_url=…&region=…&addressing_style=path|virtual]``: the four
buckets are ``<bucket-prefix>-models``, ``-replays``, ``-experiences`` and ``-checkpoints``; keys are
stored under ``<key-prefix>/`` when one is given. Credentials come from the usual AWS sources
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY`` environment variables, profiles, instance roles).
A PUT is atomic on S3: readers see the old or the new object.
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from generals_rl.storage.blobs.keys import check_bucket, check_key, check_prefix
from generals_rl.storage.errors import NotFoundError, StorageError, UnavailableError
from generals_rl.storage.interfaces import BUCKETS
from generals_rl.storage.uris import BLOBS_ACCEPTED

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_BUCKET_PREFIX = re.compile(r"[a-z0-9][a-z0-9-]{1,49}[a-z0-9]")  # + "-experiences" stays within 63
_OPTIONS = ("endpoint_url", "region", "addressing_style")
_NO_CREDENTIALS = "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile or a role"
_MISSING = {"404", "NoSuchKey", "NotFound"}


def parse_s3_uri(uri: str) -> tuple[str, str, dict[str, str]]:
    """(bucket prefix, key prefix, options) of an ``s3:`` URI; ``ValueError`` naming the URI if malformed."""
    parts = urlsplit(uri)
    if parts.scheme != "s3" or parts.fragment:
        raise ValueError(f"malformed blob URI {uri!r}; {BLOBS_ACCEPTED}")
    if not _BUCKET_PREFIX.fullmatch(parts.netloc) or "--" in parts.netloc:
        raise ValueError(
            f"malformed blob URI {uri!r}: the bucket prefix {parts.netloc!r} must be 3-51 lowercase letters, "
            f"digits and single hyphens; {BLOBS_ACCEPTED}"
        )
    key_prefix = parts.path.strip("/")
    if key_prefix:
        try:
            check_key(key_prefix)
        except ValueError as error:
            raise ValueError(f"malformed blob URI {uri!r}: bad key prefix: {error}") from None
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    unknown = sorted(set(query) - set(_OPTIONS))
    if unknown or any(len(values) != 1 for values in query.values()):
        raise ValueError(
            f"malformed blob URI {uri!r}: unknown or repeated options {unknown}; {BLOBS_ACCEPTED}"
        )
    options = {name: values[0] for name, values in query.items()}
    if options.get("addressing_style", "path") not in ("path", "virtual", "auto"):
        raise ValueError(f"malformed blob URI {uri!r}: addressing_style is path, virtual or auto")
    endpoint = options.get("endpoint_url")
    if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
        raise ValueError(f"malformed blob URI {uri!r}: endpoint_url must be an http(s) URL, got {endpoint!r}")
    return parts.netloc, key_prefix, options


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class S3BlobStore:
    """The ``BlobStore`` seam on S3."""

    def __init__(self, uri: str) -> None:
        self._uri = uri
        self._bucket_prefix, self._key_prefix, options = parse_s3_uri(uri)
        endpoint = options.get("endpoint_url")
        # With an endpoint (an S3-compatible server on loopback) path-style addressing is the safe default.
        style = options.get("addressing_style", "path" if endpoint else "auto")
        s3: Any = {"addressing_style": style}
        config = Config(s3=s3, retries={"max_attempts": 3, "mode": "standard"})
        self._region = options.get("region")
        self._client: S3Client = boto3.session.Session().client(
            "s3", endpoint_url=endpoint, region_name=self._region, config=config
        )

    @property
    def uri(self) -> str:
        return self._uri

    def bucket_name(self, bucket: str) -> str:
        return f"{self._bucket_prefix}-{check_bucket(bucket)}"

    def _object(self, key: str) -> str:
        check_key(key)
        return f"{self._key_prefix}/{key}" if self._key_prefix else key

    def _failure(self, error: Exception, what: str) -> StorageError:
        if isinstance(error, NoCredentialsError):
            return StorageError(_NO_CREDENTIALS)
        if isinstance(error, ClientError):
            return StorageError(f"S3 refused {what}: {_code(error)} {error}")
        return UnavailableError(f"S3 at {self._uri} failed: {error}")

    @contextmanager
    def _errors(self, bucket: str, key: str) -> Iterator[None]:
        try:
            yield
        except ClientError as error:
            if _code(error) in _MISSING:
                raise NotFoundError(f"no blob {key!r} in bucket {bucket!r}") from None
            if _code(error) == "NoSuchBucket":
                raise NotFoundError(
                    f"bucket {self.bucket_name(bucket)!r} does not exist (ensure_buckets)"
                ) from None
            raise self._failure(error, f"{bucket}/{key}") from None
        except BotoCoreError as error:
            raise self._failure(error, f"{bucket}/{key}") from None

    def ensure_buckets(self) -> None:
        for bucket in BUCKETS:
            name = self.bucket_name(bucket)
            try:
                self._client.head_bucket(Bucket=name)
                continue
            except ClientError as error:
                if _code(error) not in _MISSING | {"NoSuchBucket"}:
                    raise self._failure(error, f"bucket {name}") from None
            except BotoCoreError as error:
                raise self._failure(error, f"bucket {name}") from None
            extra: dict[str, Any] = {}
            if self._region and self._region != "us-east-1":
                extra["CreateBucketConfiguration"] = {"LocationConstraint": self._region}
            try:
                self._client.create_bucket(Bucket=name, **extra)
            except ClientError as error:
                if _code(error) != "BucketAlreadyOwnedByYou":  # created meanwhile by another process
                    raise self._failure(error, f"creating bucket {name}") from None
            except BotoCoreError as error:
                raise self._failure(error, f"creating bucket {name}") from None

    def put(self, bucket: str, key: str, data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise ValueError(f"blob data must be bytes, got {type(data).__name__}")
        name, obj = self.bucket_name(bucket), self._object(key)
        with self._errors(bucket, key):
            self._client.put_object(Bucket=name, Key=obj, Body=bytes(data))

    def get(self, bucket: str, key: str) -> bytes:
        name, obj = self.bucket_name(bucket), self._object(key)
        with self._errors(bucket, key):
            return self._client.get_object(Bucket=name, Key=obj)["Body"].read()

    def _head(self, bucket: str, key: str) -> dict[str, Any] | None:
        name, obj = self.bucket_name(bucket), self._object(key)
        try:
            with self._errors(bucket, key):
                return dict(self._client.head_object(Bucket=name, Key=obj))
        except NotFoundError:
            return None

    def exists(self, bucket: str, key: str) -> bool:
        return self._head(bucket, key) is not None

    def delete(self, bucket: str, key: str) -> bool:
        if not self.exists(bucket, key):
            return False
        with self._errors(bucket, key):
            self._client.delete_object(Bucket=self.bucket_name(bucket), Key=self._object(key))
        return True

    def list(self, bucket: str, prefix: str = "") -> builtins.list[str]:
        check_prefix(prefix)
        name = self.bucket_name(bucket)
        base = f"{self._key_prefix}/" if self._key_prefix else ""
        keys = []
        with self._errors(bucket, prefix):
            for page in self._client.get_paginator("list_objects_v2").paginate(
                Bucket=name, Prefix=base + prefix
            ):
                keys += [item["Key"][len(base) :] for item in page.get("Contents", [])]
        return sorted(keys)

    def size(self, bucket: str, key: str) -> int:
        head = self._head(bucket, key)
        if head is None:
            raise NotFoundError(f"no blob {key!r} in bucket {bucket!r}")
        return int(head["ContentLength"])

    def close(self) -> None:
        self._client.close()
