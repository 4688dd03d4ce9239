"""Ticket photos: images only (checked by decoding them), re-encoded, stored privately."""

import io

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from tickets.models import Ticket, TicketEvent, TicketPhoto, User

from . import DeskError, require_perm
from .timeline import timeline_write

_FORMATS = {"JPEG": "jpeg", "PNG": "png", "WEBP": "webp"}
MAX_PIXELS = 40_000_000  # about 7,000 x 5,700: far above any phone camera


def _decode(data: bytes) -> Image.Image:
    """Decodes the image fully under a pixel limit; anything else is a refusal."""
    try:
        with Image.open(io.BytesIO(data)) as probe:
            if probe.format not in _FORMATS:
                raise DeskError(_("只接受 JPEG、PNG 或 WebP 图片。"))
            if probe.width * probe.height > MAX_PIXELS:
                raise Image.DecompressionBombError("too many pixels")
            probe.verify()
        image = Image.open(io.BytesIO(data))
        image.load()
        return image
    except Image.DecompressionBombError as exc:
        raise DeskError(_("图片像素过大，请压缩后再上传。")) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DeskError(_("文件不是有效的图片。")) from exc


def _reencode(image: Image.Image, fmt: str) -> bytes:
    """A fresh file from the pixels alone: no EXIF (location!), nothing appended."""
    out = io.BytesIO()
    if fmt == "jpeg":
        image.convert("RGB").save(out, "JPEG", quality=88, optimize=True)
    elif fmt == "png":
        image.save(out, "PNG", optimize=True)
    else:
        image.save(out, "WEBP", quality=88)
    return out.getvalue()


@transaction.atomic
def photo_add(*, actor: User, ticket: Ticket, data: bytes, original_name: str = "") -> TicketPhoto:
    require_perm(actor, "tickets.add_ticketphoto")
    if len(data) > settings.DESK_PHOTO_MAX_BYTES:
        raise DeskError(
            _("图片不能超过 %(mb)s MB。") % {"mb": settings.DESK_PHOTO_MAX_BYTES // (1024 * 1024)}
        )
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.photos.count() >= settings.DESK_PHOTOS_PER_TICKET:
        raise DeskError(_("每张售后单最多 %(n)s 张照片。") % {"n": settings.DESK_PHOTOS_PER_TICKET})
    image = _decode(data)
    fmt = _FORMATS[image.format]
    clean = _reencode(image, fmt)
    photo = TicketPhoto(
        ticket=ticket,
        image_format=fmt,
        original_name=original_name[:255],
        width=image.width,
        height=image.height,
        size_bytes=len(clean),
        uploaded_by=actor,
    )
    photo.file.save(f"photo.{fmt}", ContentFile(clean), save=False)
    photo.save()
    timeline_write(
        ticket=ticket,
        actor=actor,
        kind=TicketEvent.Kind.PHOTO,
        message=_("上传照片 %(name)s")
        % {"name": original_name or photo.file.name.rsplit("/", 1)[-1]},
    )
    return photo
