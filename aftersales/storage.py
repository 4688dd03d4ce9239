"""Where the desk's files live (issue 15): photos, finance sheets and import files, all through
Django's storage API (``STORAGES["default"]``), whichever store holds them.

- ``S3_BUCKET`` unset: the local folder ``VAR_DIR/private`` (``FileSystemStorage``), as
  ``make run`` needs it: no server at all.
- ``S3_BUCKET`` set: ``DeskS3Storage``, django-storages' S3 backend kept private: no ACL on any
  object (the bucket's own, private, applies), no public URL at all (``url`` refuses, as the
  local folder's does with no ``base_url``), never overwriting a file (``file_overwrite=False``).
  Aliyun OSS, Tencent COS and any S3-compatible server are reached through ``S3_ENDPOINT_URL``.

Files are served only by the views that check the user first, streamed from the store.
A store that fails (unreachable, bucket missing, credentials refused, disk full) raises one of
``STORE_ERRORS``; ``StoreError`` carries that failure with the words the user reads
(``store_refusal``), so an upload is refused with a clear message and nothing half-written.
"""

import logging
import re

from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files import File
from django.core.files.storage import Storage
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from storages.backends.s3 import S3Storage

from aftersales.logging import redact

logger = logging.getLogger(__name__)

# What a store raises when it fails: the local folder an OSError (a full disk, a folder it may
# not write), S3 botocore's errors (connection refused or timed out, no credentials), an
# S3 error answer (ClientError: NoSuchBucket, AccessDenied, InvalidAccessKeyId ...) and boto3's
# S3UploadFailedError around one during an upload.
STORE_ERRORS = (OSError, BotoCoreError, ClientError, Boto3Error)


class StoreError(Exception):
    """The file store failed; ``message`` is for the user (in their language), the cause is
    chained (``__cause__``) and logged, never shown (it may name the endpoint)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message

    def __str__(self):
        return str(self.message)


# A key's segment a log may keep as it is: plain ASCII, as the desk's generated names are.
_PLAIN_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")


def store_log_name(name: str) -> str:
    """``name`` (a stored file's key) as a log line may write it: the buyer's folder of a
    photo (``photos/<buyer>/...``; older photos are filed under the nickname itself) and any
    segment that is not plain ASCII as ``*``, phone numbers masked (``redact``):
    ``photos/糖糖爱吃猫20/13/ab12.jpeg`` -> ``photos/*/13/ab12.jpeg``. QUALITY.md section 8."""
    parts = name.split("/")
    if len(parts) >= 3 and parts[0] == "photos":
        parts[1] = "*"
    return redact("/".join(p if _PLAIN_SEGMENT.fullmatch(p) else "*" for p in parts))


def store_refusal() -> str:
    """The words a user reads when the store failed: nothing was saved, try again later."""
    return _("文件存储暂时无法访问，文件没有保存。请稍后再试；如果一直这样，请告诉管理员。")


def store_unreadable() -> str:
    """The words a user reads when a stored file cannot be read right now."""
    return _("文件存储暂时无法访问，现在无法读取这个文件。请稍后再试；如果一直这样，请告诉管理员。")


def store_save(field_file, name: str, content: File) -> str:
    """Saves ``content`` into ``field_file`` (a ``FieldFile``, not saving its model row) and
    returns the stored name. Raises ``StoreError`` (``store_refusal``) when the store fails, so
    the caller's transaction rolls back and no row points at a file that is not there."""
    try:
        field_file.save(name, content, save=False)
    except STORE_ERRORS as exc:
        logger.error(
            "saving %s to the file store failed: %s", store_log_name(name), type(exc).__name__
        )
        raise StoreError(store_refusal()) from exc
    return field_file.name


def store_open(field_file) -> File:
    """Opens a stored file for streaming it to a user who was checked first (``FileResponse``
    closes it). The file is reached before any response starts (an S3 file is fetched into a
    local spooled file here), so a failure is a clear page, never half a download. Raises
    ``FileNotFoundError`` when the file is not in the store and ``StoreError``
    (``store_unreadable``) when the store fails."""
    try:
        handle = field_file.storage.open(field_file.name, "rb")
    except FileNotFoundError:
        raise
    except STORE_ERRORS as exc:
        logger.error(
            "opening %s in the file store failed: %s",
            store_log_name(field_file.name),
            type(exc).__name__,
        )
        raise StoreError(store_unreadable()) from exc
    try:
        handle.read(0)  # S3: the object is fetched now, not while the response is streaming
    except STORE_ERRORS as exc:
        handle.close()
        logger.error(
            "reading %s from the file store failed: %s",
            store_log_name(field_file.name),
            type(exc).__name__,
        )
        raise StoreError(store_unreadable()) from exc
    return handle


def store_delete(storage: Storage, name: str) -> bool:
    """Deletes ``name`` from ``storage`` if it is there. A store that fails is logged and left
    for the next clean-up (the name is kept by the caller or found again); returns whether
    the file is gone. Never raises for the store: a delete runs after a commit, when the
    user's action has already happened."""
    try:
        storage.delete(name)
    except STORE_ERRORS as exc:
        logger.warning(
            "deleting %s from the file store failed: %s", store_log_name(name), type(exc).__name__
        )
        return False
    return True


def store_unavailable(request: HttpRequest, message: str) -> HttpResponse:
    """The page a view answers when a stored file (a photo, a sheet) cannot be read because
    the store failed: status 503 with ``message`` (``store_unreadable``) in the desk's error
    layout (templates/errors/503.html), so the user knows it is the store, not the file or
    their permission, and to try again later."""
    response = render(request, "errors/503.html", {"message": message}, status=503)
    response["Retry-After"] = "60"
    return response


class DeskS3Storage(S3Storage):
    """django-storages' S3 backend, private whatever the options say: no ACL is sent (the
    bucket's private default applies), no file is overwritten (a second file of the same
    name gets a new one), and there is no URL for any file: the desk streams every file
    through a view that checks the user first (QUALITY.md 6)."""

    def get_default_settings(self):
        return {**super().get_default_settings(), "default_acl": None, "file_overwrite": False}

    def _get_write_parameters(self, name, content=None):
        params = super()._get_write_parameters(name, content)
        params.pop("ACL", None)
        return params

    def url(self, name, parameters=None, expire=None, http_method=None):
        raise ValueError("The desk's files have no URL: they are served by its views.")
