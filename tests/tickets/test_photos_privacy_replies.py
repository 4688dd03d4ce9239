"""Photos checked by content, personal data masked and its reveal audited, quick replies."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from PIL import Image

from tests.factories import make_ticket
from tickets.models import AppendOnlyError, PersonalDataAccess, QuickReply, TicketPhoto
from tickets.privacy import mask_address, mask_name, mask_nick, mask_phone
from tickets.quick_replies import quick_reply_render
from tickets.services import DeskError
from tickets.services.photos import photo_add
from tickets.services.privacy import order_reveal_personal_data


def image_bytes(fmt="JPEG", size=(40, 30), exif=False):
    out = io.BytesIO()
    image = Image.new("RGB", size, (200, 30, 30))
    kwargs = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMaker"  # camera make
        kwargs["exif"] = data
    image.save(out, fmt, **kwargs)
    return out.getvalue()


@pytest.fixture
def ticket(order_a, agent):
    return make_ticket(order_a, agent)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_images_are_accepted_and_reencoded_without_exif(agent, ticket, fmt):
    photo = photo_add(
        actor=agent, ticket=ticket, data=image_bytes(fmt, exif=fmt == "JPEG"), original_name="a.jpg"
    )
    assert photo.image_format == fmt.lower()
    with photo.file.open("rb") as handle:
        stored = Image.open(handle)
        stored.load()
        assert not stored.getexif()
    assert f"/{ticket.pk}/" in photo.file.name
    assert not photo.file.name.endswith("a.jpg")  # generated name; the client's name is data
    assert ticket.events.filter(kind="photo").count() == 1


def test_a_file_named_jpg_that_is_not_an_image_is_refused(agent, ticket):
    with pytest.raises(DeskError, match="不是有效的图片"):
        photo_add(
            actor=agent, ticket=ticket, data=b"<script>alert(1)</script>", original_name="x.jpg"
        )
    gif = io.BytesIO()
    Image.new("RGB", (5, 5)).save(gif, "GIF")
    with pytest.raises(DeskError, match="JPEG"):
        photo_add(actor=agent, ticket=ticket, data=gif.getvalue(), original_name="x.jpg")
    assert not TicketPhoto.objects.exists()


def test_truncated_image_and_appended_payload(agent, ticket):
    data = image_bytes("PNG")
    with pytest.raises(DeskError):
        photo_add(actor=agent, ticket=ticket, data=data[: len(data) // 2])
    photo = photo_add(actor=agent, ticket=ticket, data=data + b"PK\x03\x04 zip payload")
    assert b"zip payload" not in photo.file.open("rb").read()


def test_size_pixel_and_count_limits(agent, ticket, settings):
    settings.DESK_PHOTO_MAX_BYTES = 100
    with pytest.raises(DeskError, match="MB"):
        photo_add(actor=agent, ticket=ticket, data=image_bytes(size=(200, 200)))
    settings.DESK_PHOTO_MAX_BYTES = 8 * 1024 * 1024
    from tickets.services import photos

    original = photos.MAX_PIXELS
    photos.MAX_PIXELS = 100
    try:
        # A PNG cannot be decoded smaller (a large JPEG is: test_photos_from_phones).
        with pytest.raises(DeskError, match="像素"):
            photo_add(actor=agent, ticket=ticket, data=image_bytes("PNG", size=(20, 20)))
    finally:
        photos.MAX_PIXELS = original
    settings.DESK_PHOTOS_PER_TICKET = 1
    photo_add(actor=agent, ticket=ticket, data=image_bytes())
    with pytest.raises(DeskError, match="最多"):
        photo_add(actor=agent, ticket=ticket, data=image_bytes())


@pytest.mark.parametrize(
    ("value", "masked"), [("13812345678", "138****5678"), ("'139 1234 5678", "139****5678")]
)
def test_phone_masking(value, masked):
    assert mask_phone(value) == masked


def test_name_address_and_nick_masking():
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_address("解放大道88号3栋1201室") == "解放大道****"
    assert mask_nick("小鱼爱吃猫12") == "小鱼***2"


def test_revealing_personal_data_is_recorded_and_the_record_cannot_change(agent, order_a, finance):
    data = order_reveal_personal_data(actor=agent, order=order_a)
    assert data["phone"] == order_a.receiver_phone
    access = PersonalDataAccess.objects.get()
    assert (access.user, access.order) == (agent, order_a)
    with pytest.raises(AppendOnlyError):
        access.delete()
    with pytest.raises(PermissionDenied):
        order_reveal_personal_data(actor=finance, order=order_a)


def test_quick_reply_fills_the_orders_facts(agent, order_a):
    ticket = make_ticket(order_a, agent, return_tracking_no="YT42")
    reply = QuickReply.objects.create(
        title="t", body="{买家}您好，订单 {订单号}，退回单号 {退回运单号}，{运单号}"
    )
    text = quick_reply_render(reply, ticket)
    assert text.startswith(f"{order_a.buyer_nick}您好，订单 {order_a.order_no}，退回单号 YT42")
    assert text.endswith("{运单号}")  # the order has no tracking number: placeholder stays visible
