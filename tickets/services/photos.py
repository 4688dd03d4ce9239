"""Ticket photos: images only (checked by decoding them), turned upright, re-encoded, stored
privately (QUALITY.md "Uploads" 23-24; issue 12 section 3, photos from buyers' phones).

What a buyer's phone sends and what the desk stores:

- JPEG, PNG and WebP, by the format the bytes show (never the file name). A phone camera's
  JPEG that carries a second picture (MPO: a depth map, a preview) is a JPEG: its first
  picture is stored. An animated WebP or PNG is stored as its first frame.
- The pixels are turned as the EXIF orientation says (``ImageOps.exif_transpose``) *before*
  the file is re-encoded without EXIF, so a portrait photo is stored portrait.
- Stored in the format it came in (JPEG as JPEG, PNG as PNG, WebP as WebP), in a mode every
  browser shows: a CMYK JPEG becomes RGB, a 16-bit PNG becomes 8-bit grey (scaled, not
  clipped), a palette image RGB(A); a PNG's or WebP's transparency is kept (each stays in its
  own format, and a JPEG has none, so nothing transparent is ever turned into a JPEG).
- At most ``MAX_SIDE`` pixels on the longer side (a 12 MP phone photo, 4032 x 3024, is kept
  as it is; a 48 MP one is made smaller). A large JPEG is decoded at 1/2, 1/4 or 1/8 of its
  size by the JPEG decoder itself, so no more than ``MAX_PIXELS`` are ever held in memory;
  a PNG or WebP above ``MAX_PIXELS`` (which cannot be decoded smaller) is refused, and so is
  anything above Pillow's own decompression-bomb limit.
- Stored through the default storage (the local folder or the object store, issue 15): a
  store that fails refuses the upload with a clear message, and nothing is recorded - no
  photo row without its file, no file left behind without its row.
"""

import io
import logging
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageOps, UnidentifiedImageError

from aftersales.storage import STORE_ERRORS, StoreError, store_delete, store_save
from tickets.models import Ticket, TicketEvent, TicketPhoto, User

from . import DeskError, require_perm
from .timeline import timeline_write

# Detected format -> the stored format (MPO is a JPEG with an extra embedded picture).
_FORMATS = {"JPEG": "jpeg", "MPO": "jpeg", "PNG": "png", "WEBP": "webp"}
_JPEG_FORMATS = {"JPEG", "MPO"}
MAX_PIXELS = 40_000_000  # the most pixels ever decoded at once (about 7,000 x 5,700)
MAX_SIDE = 4096  # the longest side stored: every 12 MP phone photo (4032 x 3024) fits
# What a decoder may raise on hostile or damaged bytes: each means "not a valid image".
_DECODE_ERRORS = (
    UnidentifiedImageError,
    OSError,  # truncated data ("image file is truncated"), broken streams
    SyntaxError,  # PNG chunk errors from verify()
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    TypeError,
    ZeroDivisionError,
)
_SIXTEEN_BIT_GREY = {"I", "I;16", "I;16B", "I;16L", "I;16N"}
# A photo file no row names is deleted by the nightly clean-up once it is this old: an upload
# still in progress (its file stored, its row not yet committed) is never that old.
ORPHAN_PHOTO_MAX_AGE = timedelta(days=1)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CleanPhoto:
    """A photo ready to store: ``data`` is the re-encoded file (no EXIF, nothing appended),
    ``image_format`` one of ``jpeg``/``png``/``webp``, ``width`` x ``height`` in pixels of the
    stored, upright picture."""

    data: bytes
    image_format: str
    width: int
    height: int


def _bomb() -> DeskError:
    return DeskError(_("图片像素过大，请压缩后再上传。"))


def _jpeg_scale(width: int, height: int) -> int:
    """The JPEG decoder's reduction (1, 2, 4 or 8) for a picture of ``width`` x ``height``:
    as small as still gives at least ``MAX_SIDE`` on the longer side, and as large as keeps
    the decoded pixels within ``MAX_PIXELS``."""
    scale = 1
    while scale < 8 and (
        max(width, height) // (scale * 2) >= MAX_SIDE
        or (width // scale) * (height // scale) > MAX_PIXELS
    ):
        scale *= 2
    return scale


def _decode(data: bytes) -> tuple[Image.Image, str]:
    """Decodes the first picture of ``data`` fully, within the pixel limits.

    Returns the loaded image (a large JPEG decoded smaller, see ``_jpeg_scale``) and the stored
    format (``jpeg``/``png``/``webp``). Raises ``DeskError`` for another format, too many
    pixels or bytes that do not decode completely (truncated, damaged)."""
    try:
        with warnings.catch_warnings():
            # Pillow warns (instead of refusing) between its limit and twice its limit.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                detected = probe.format
                if detected not in _FORMATS:
                    raise DeskError(_("只接受 JPEG、PNG 或 WebP 图片。"))
                width, height = probe.size
                declared_limit = Image.MAX_IMAGE_PIXELS if detected in _JPEG_FORMATS else MAX_PIXELS
                if declared_limit and width * height > declared_limit:
                    raise _bomb()
                probe.verify()
            image = Image.open(io.BytesIO(data))
            if detected in _JPEG_FORMATS:
                scale = _jpeg_scale(width, height)
                if scale > 1:
                    image.draft(image.mode, (width // scale, height // scale))
            if image.width * image.height > MAX_PIXELS:
                raise _bomb()
            image.load()  # the first frame of an animation or of an MPO file
            return image, _FORMATS[detected]
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise _bomb() from exc
    except _DECODE_ERRORS as exc:
        raise DeskError(_("文件不是有效的图片。")) from exc


def _viewable(image: Image.Image, fmt: str) -> Image.Image:
    """``image`` in a mode that ``fmt`` stores and every browser shows: 16-bit grey scaled to
    8 bits, a JPEG in RGB (CMYK converted), a PNG's or WebP's palette or colour key to RGB or
    RGBA, its transparency kept."""
    if image.mode in _SIXTEEN_BIT_GREY:
        # convert("L") would clip every value above 255 to white: scale 0-65535 to 0-255.
        image = image.convert("I").point(lambda value: value / 257).convert("L")
    if fmt == "jpeg":  # L, RGB or CMYK: a JPEG has no transparency to lose
        return image if image.mode == "RGB" else image.convert("RGB")
    transparent = image.has_transparency_data
    if image.mode in {"RGB", "RGBA", "L", "LA"} and not (
        transparent and image.mode in {"RGB", "L"}  # a tRNS colour key: make it real alpha
    ):
        return image
    return image.convert("RGBA" if transparent else "RGB")


def _encode(image: Image.Image, fmt: str) -> bytes:
    """A fresh file from the pixels alone: no EXIF (location!), no text chunks, nothing
    appended. The colour profile stays when the pixels are still in its colour space."""
    out = io.BytesIO()
    icc = image.info.get("icc_profile") if image.mode in {"RGB", "RGBA", "L", "LA"} else None
    extra = {"icc_profile": icc} if icc else {}
    if fmt == "jpeg":
        image.save(out, "JPEG", quality=88, optimize=True, **extra)
    elif fmt == "png":
        image.save(out, "PNG", optimize=True, **extra)
    else:
        image.save(out, "WEBP", quality=88, **extra)
    return out.getvalue()


def photo_clean(data: bytes) -> CleanPhoto:
    """Checks and prepares a photo's bytes for storing, without touching the database.

    ``data`` is the uploaded file's content. Returns the ``CleanPhoto`` (upright, at most
    ``MAX_SIDE`` px on its longer side, re-encoded without EXIF). Raises ``DeskError`` with
    the reason for a file above ``DESK_PHOTO_MAX_BYTES``, another format, a decompression
    bomb, or a damaged or truncated file (QUALITY.md 23; issue 12 section 3)."""
    if len(data) > settings.DESK_PHOTO_MAX_BYTES:
        raise DeskError(
            _("图片不能超过 %(mb)s MB。") % {"mb": settings.DESK_PHOTO_MAX_BYTES // (1024 * 1024)}
        )
    image, fmt = _decode(data)
    try:
        upright = ImageOps.exif_transpose(image)  # before EXIF goes, the pixels turn
        clean = _viewable(upright, fmt)
        if max(clean.size) > MAX_SIDE:
            clean.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
        encoded = _encode(clean, fmt)
    except _DECODE_ERRORS as exc:  # a damaged EXIF block, a mode the encoder refuses
        raise DeskError(_("文件不是有效的图片。")) from exc
    finally:
        image.close()
    return CleanPhoto(data=encoded, image_format=fmt, width=clean.width, height=clean.height)


def photo_count_check(ticket: Ticket, adding: int) -> None:
    """Raises ``DeskError`` when ``adding`` more photos would pass ``DESK_PHOTOS_PER_TICKET``
    on ``ticket``. The upload view asks before decoding any file (forty 10 MB files are not
    decoded to be refused for their number); the services ask again under the ticket's lock."""
    if ticket.photos.count() + adding > settings.DESK_PHOTOS_PER_TICKET:
        raise DeskError(_("每张售后单最多 %(n)s 张照片。") % {"n": settings.DESK_PHOTOS_PER_TICKET})


def _store(*, actor: User, ticket: Ticket, clean: CleanPhoto, original_name: str) -> TicketPhoto:
    photo = TicketPhoto(
        ticket=ticket,
        image_format=clean.image_format,
        original_name=original_name[:255],
        width=clean.width,
        height=clean.height,
        size_bytes=len(clean.data),
        uploaded_by=actor,
    )
    try:
        store_save(photo.file, f"photo.{clean.image_format}", ContentFile(clean.data))
    except StoreError as exc:
        raise DeskError(exc.message) from exc
    try:
        photo.save()
        timeline_write(
            ticket=ticket,
            actor=actor,
            kind=TicketEvent.Kind.PHOTO,
            line=(
                "photo_uploaded",
                {"name": original_name or photo.file.name.rsplit("/", 1)[-1]},
            ),
        )
    except BaseException:
        _unstore([photo])
        raise
    return photo


@transaction.atomic
def photo_add(*, actor: User, ticket: Ticket, data: bytes, original_name: str = "") -> TicketPhoto:
    """Stores one photo on ``ticket`` (see ``photo_clean`` for what is accepted and how it is
    stored) and notes it on the timeline. Returns the ``TicketPhoto``. Raises
    ``PermissionDenied`` without ``tickets.add_ticketphoto`` and ``DeskError`` for a refused
    file or a ticket that already has ``DESK_PHOTOS_PER_TICKET`` photos."""
    require_perm(actor, "tickets.add_ticketphoto")
    clean = photo_clean(data)
    return photo_add_many(actor=actor, ticket=ticket, photos=[(original_name, clean)])[0]


@transaction.atomic
def photo_add_many(
    *, actor: User, ticket: Ticket, photos: list[tuple[str, CleanPhoto]]
) -> list[TicketPhoto]:
    """Stores photos already checked by ``photo_clean`` (``(original name, CleanPhoto)``
    pairs) on ``ticket``, all or none: the upload form sends several at once, and one too
    many refuses them all. Returns the new ``TicketPhoto`` rows in the order given. Raises as
    ``photo_add``."""
    require_perm(actor, "tickets.add_ticketphoto")
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    photo_count_check(ticket, len(photos))
    stored: list[TicketPhoto] = []
    try:
        for name, clean in photos:
            stored.append(_store(actor=actor, ticket=ticket, clean=clean, original_name=name))
    except BaseException:
        # The rows roll back with the transaction; the files already in the store go too.
        _unstore(stored)
        raise
    return stored


def _unstore(photos: list[TicketPhoto]) -> None:
    """Deletes the stored files of ``photos`` whose rows are being rolled back (best effort:
    a store that fails now leaves a file no row points at, logged)."""
    for photo in photos:
        if photo.file.name:
            store_delete(photo.file.storage, photo.file.name)


def photo_files_clean(*, now: datetime | None = None) -> int:
    """Deletes photo files in the store that no ``TicketPhoto`` names and that are older than
    ``ORPHAN_PHOTO_MAX_AGE``: what an upload leaves when its process was killed between
    storing the file and committing its row (gunicorn's timeout on a slow store, a machine
    going down), or when the store refused the delete of a rolled-back upload. Walks
    ``photos/<buyer>/<ticket id>/`` (new and old buyer folders alike), asking the database for
    one ticket's photos at a time. Returns how many files it deleted; a store that fails while
    listing ends the walk (logged; the next night goes on), never raises. Run nightly by the
    clean-up task (``finance_exports.tasks.clean_sheet_tmp_dir``)."""
    now = now or timezone.now()
    storage = TicketPhoto._meta.get_field("file").storage
    removed = 0
    try:
        buyers = storage.listdir("photos")[0]
        for buyer in buyers:
            for folder in storage.listdir(f"photos/{buyer}")[0]:
                path = f"photos/{buyer}/{folder}"
                rows = TicketPhoto.objects.filter(file__startswith=f"{path}/")
                if folder.isdigit():
                    rows = rows.filter(ticket_id=int(folder))
                in_use = set(rows.values_list("file", flat=True))
                for name in storage.listdir(path)[1]:
                    key = f"{path}/{name}"
                    if key in in_use:
                        continue
                    try:
                        modified = storage.get_modified_time(key)
                    except FileNotFoundError:
                        continue  # deleted meanwhile (a second clean-up: two beats)
                    if now - modified > ORPHAN_PHOTO_MAX_AGE:
                        removed += store_delete(storage, key)
    except FileNotFoundError:
        pass  # no photo yet (the local folder has no photos/ until the first)
    except STORE_ERRORS as exc:
        logger.warning("cleaning up photo files stopped: %s", type(exc).__name__)
    return removed
