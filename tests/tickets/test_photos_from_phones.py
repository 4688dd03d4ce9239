"""Photos as buyers' phones send them (issue 12 section 3): an MPO camera JPEG, every EXIF
orientation, CMYK, transparency, 16 bits, progressive, animated, very large, and damaged or
hostile files. Every picture is made here with Pillow, stored through the service and through
the ticket page's upload form, and opened back: format, mode, width and height, and where a
marked corner ended up."""

import io
import struct
import zlib

import pytest
from django.urls import reverse
from PIL import Image

from tests.factories import make_ticket
from tickets.models import TicketPhoto
from tickets.services import DeskError
from tickets.services.photos import MAX_SIDE, photo_add

# An upright portrait picture, 40 wide and 64 high, in four coloured quarters: a picture
# stored on its side, upside down or mirrored puts another colour in the top-left corner.
W, H = 40, 64
RED, GREEN, BLUE, YELLOW = (220, 30, 30), (30, 200, 30), (30, 30, 220), (230, 220, 20)
QUARTERS = {"top_left": RED, "top_right": GREEN, "bottom_left": BLUE, "bottom_right": YELLOW}
VIEWABLE_MODES = {"JPEG": {"RGB"}, "PNG": {"RGB", "RGBA", "L", "LA"}, "WEBP": {"RGB", "RGBA"}}


def upright(size=(W, H)) -> Image.Image:
    width, height = size
    image = Image.new("RGB", size)
    half_w, half_h = width // 2, height // 2
    image.paste(RED, (0, 0, half_w, half_h))
    image.paste(GREEN, (half_w, 0, width, half_h))
    image.paste(BLUE, (0, half_h, half_w, height))
    image.paste(YELLOW, (half_w, half_h, width, height))
    return image


# Where the camera's stored row 0 and column 0 lie in the upright picture (the EXIF 2.3
# definition of each Orientation value), as the upright (x, y) of the stored pixel (xr, yr).
ORIENTATIONS = {
    1: lambda xr, yr: (xr, yr),  # row 0 top, column 0 left
    2: lambda xr, yr: (W - 1 - xr, yr),  # row 0 top, column 0 right
    3: lambda xr, yr: (W - 1 - xr, H - 1 - yr),  # row 0 bottom, column 0 right
    4: lambda xr, yr: (xr, H - 1 - yr),  # row 0 bottom, column 0 left
    5: lambda xr, yr: (yr, xr),  # row 0 left, column 0 top
    6: lambda xr, yr: (W - 1 - yr, xr),  # row 0 right, column 0 top (phone held upright)
    7: lambda xr, yr: (W - 1 - yr, H - 1 - xr),  # row 0 right, column 0 bottom
    8: lambda xr, yr: (yr, H - 1 - xr),  # row 0 left, column 0 bottom
}


def as_the_camera_stores(orientation: int) -> Image.Image:
    """The raw pixels a camera writes for the upright picture with this orientation tag."""
    picture = upright()
    size = (W, H) if orientation <= 4 else (H, W)  # 5-8: stored on its side
    raw = Image.new("RGB", size)
    where = ORIENTATIONS[orientation]
    for yr in range(size[1]):
        for xr in range(size[0]):
            raw.putpixel((xr, yr), picture.getpixel(where(xr, yr)))
    return raw


def phone_exif(orientation: int = 1) -> Image.Exif:
    exif = Image.Exif()
    exif[0x0112] = orientation  # Orientation
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Phone 15"  # Model
    return exif


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def close(actual, expected, tolerance=40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual, expected, strict=True))


def opened(photo: TicketPhoto) -> Image.Image:
    with photo.file.open("rb") as handle:
        image = Image.open(io.BytesIO(handle.read()))
    image.load()
    return image


def assert_viewable(photo: TicketPhoto, fmt: str, size: tuple[int, int]) -> Image.Image:
    """The stored file opens as ``fmt`` at ``size`` in a mode browsers show, without EXIF,
    one picture only, and the row says the same."""
    image = opened(photo)
    assert image.format == fmt
    assert image.mode in VIEWABLE_MODES[fmt]
    assert image.size == size == (photo.width, photo.height)
    assert getattr(image, "n_frames", 1) == 1
    assert not image.getexif()
    assert photo.image_format == fmt.lower()
    assert photo.file.name.endswith(f".{fmt.lower()}")
    return image


def assert_upright(image: Image.Image) -> None:
    width, height = image.size
    rgb = image.convert("RGB")
    corners = {
        "top_left": (width // 4, height // 4),
        "top_right": (3 * width // 4, height // 4),
        "bottom_left": (width // 4, 3 * height // 4),
        "bottom_right": (3 * width // 4, 3 * height // 4),
    }
    seen = {name: rgb.getpixel(xy) for name, xy in corners.items()}
    assert all(close(seen[name], QUARTERS[name]) for name in QUARTERS), seen


@pytest.fixture
def ticket(order_a, agent):
    return make_ticket(order_a, agent)


# --- the cases, through the service ----------------------------------------------------------
@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_exif_orientation_is_stored_upright(agent, ticket, orientation):
    raw = as_the_camera_stores(orientation)
    data = encode(raw, "JPEG", quality=95, exif=phone_exif(orientation))
    photo = photo_add(actor=agent, ticket=ticket, data=data, original_name="IMG_0001.JPG")
    assert_upright(assert_viewable(photo, "JPEG", (W, H)))


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_png_and_webp_turn_by_their_exif_too(agent, ticket, fmt):
    options = {"lossless": True} if fmt == "WEBP" else {}
    data = encode(as_the_camera_stores(6), fmt, exif=phone_exif(6), **options)
    photo = photo_add(actor=agent, ticket=ticket, data=data)
    assert_upright(assert_viewable(photo, fmt, (W, H)))


def test_a_camera_mpo_is_stored_as_the_jpeg_of_its_first_picture(agent, ticket):
    depth_map = Image.new("RGB", (H, W), (128, 128, 128))
    data = encode(
        as_the_camera_stores(6),
        "MPO",
        save_all=True,
        append_images=[depth_map],
        quality=95,
        exif=phone_exif(6),
    )
    with Image.open(io.BytesIO(data)) as sent:
        assert (sent.format, sent.n_frames) == ("MPO", 2)  # what Pillow calls a phone's JPEG
    photo = photo_add(actor=agent, ticket=ticket, data=data, original_name="IMG_0002.JPG")
    assert_upright(assert_viewable(photo, "JPEG", (W, H)))


def test_a_cmyk_jpeg_is_stored_as_rgb(agent, ticket):
    cmyk = upright().convert("CMYK")
    data = encode(cmyk, "JPEG", quality=95)
    with Image.open(io.BytesIO(data)) as sent:
        assert sent.mode == "CMYK"
    photo = photo_add(actor=agent, ticket=ticket, data=data)
    assert_upright(assert_viewable(photo, "JPEG", (W, H)))


def test_a_progressive_jpeg(agent, ticket):
    data = encode(as_the_camera_stores(8), "JPEG", progressive=True, exif=phone_exif(8))
    with Image.open(io.BytesIO(data)) as sent:
        assert sent.info.get("progressive")
    photo = photo_add(actor=agent, ticket=ticket, data=data)
    assert_upright(assert_viewable(photo, "JPEG", (W, H)))


def test_a_transparent_png_keeps_its_transparency(agent, ticket):
    picture = upright().convert("RGBA")
    picture.putpixel((0, 0), (0, 0, 0, 0))  # a clear corner
    photo = photo_add(actor=agent, ticket=ticket, data=encode(picture, "PNG"))
    stored = assert_viewable(photo, "PNG", (W, H))
    assert stored.mode == "RGBA"
    assert stored.getpixel((0, 0))[3] == 0
    assert stored.getpixel((W // 4, H // 4)) == (*RED, 255)
    assert_upright(stored)


def test_a_palette_png_with_a_transparent_colour_is_stored_with_real_alpha(agent, ticket):
    palette = upright().quantize(colors=8)
    clear = palette.getpixel((W - 1, H - 1))  # the yellow quarter's index
    data = encode(palette, "PNG", transparency=clear)
    photo = photo_add(actor=agent, ticket=ticket, data=data)
    stored = assert_viewable(photo, "PNG", (W, H))
    assert stored.mode == "RGBA"
    assert stored.getpixel((W - 1, H - 1))[3] == 0
    assert stored.getpixel((0, 0))[3] == 255


def test_a_16_bit_png_is_stored_as_8_bit_grey_scaled_not_clipped(agent, ticket):
    grey = Image.new("I;16", (W, H))
    for x in range(W):
        for y in range(H):
            grey.putpixel((x, y), 65535 if x < W // 2 else 32896)  # white | middle grey
    data = encode(grey, "PNG")
    with Image.open(io.BytesIO(data)) as sent:
        assert sent.mode == "I;16"
    photo = photo_add(actor=agent, ticket=ticket, data=data)
    stored = assert_viewable(photo, "PNG", (W, H))
    assert stored.mode == "L"
    assert stored.getpixel((0, 0)) == 255
    assert stored.getpixel((W - 1, 0)) == 128  # clipping would have made it white too


def test_an_animated_webp_is_stored_as_its_first_frame(agent, ticket):
    frames = [upright(), Image.new("RGB", (W, H), (0, 0, 0)), Image.new("RGB", (W, H), "white")]
    data = encode(
        frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=200, lossless=True
    )
    with Image.open(io.BytesIO(data)) as sent:
        assert sent.n_frames == 3
    photo = photo_add(actor=agent, ticket=ticket, data=data, original_name="sticker.webp")
    assert_upright(assert_viewable(photo, "WEBP", (W, H)))


def test_an_animated_png_is_stored_as_its_first_frame(agent, ticket):
    data = encode(
        upright(), "PNG", save_all=True, append_images=[Image.new("RGB", (W, H))], duration=100
    )
    photo = photo_add(actor=agent, ticket=ticket, data=data)
    assert_upright(assert_viewable(photo, "PNG", (W, H)))


def test_a_48_megapixel_phone_photo_is_made_smaller_not_refused(agent, ticket):
    big = upright((6000, 8000))  # portrait, as the phone shows it
    data = encode(big.transpose(Image.Transpose.ROTATE_90), "JPEG", exif=phone_exif(6))
    del big
    photo = photo_add(actor=agent, ticket=ticket, data=data, original_name="IMG_48MP.JPG")
    stored = assert_viewable(photo, "JPEG", (photo.width, photo.height))
    assert max(stored.size) <= MAX_SIDE
    assert stored.width * 4 == stored.height * 3  # still 3:4, and portrait
    assert_upright(stored)


def test_an_ordinary_12_megapixel_photo_keeps_its_size(agent, ticket):
    data = encode(upright((3024, 4032)), "JPEG", quality=80)
    photo = photo_add(actor=agent, ticket=ticket, data=data)
    assert_upright(assert_viewable(photo, "JPEG", (3024, 4032)))


def test_a_large_png_that_cannot_be_decoded_smaller_is_refused(agent, ticket):
    data = encode(Image.new("1", (8000, 6000), 1), "PNG")  # 48 Mpx, a small file
    with pytest.raises(DeskError, match="像素过大"):
        photo_add(actor=agent, ticket=ticket, data=data)
    assert not TicketPhoto.objects.exists()


# --- hostile and damaged files -----------------------------------------------------------
def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width`` x ``height`` (a decompression bomb)."""
    data = bytearray(encode(Image.new("L", (8, 8)), "PNG"))
    ihdr = bytes(data[12:16]) + struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:24] = struct.pack(">II", width, height)
    data[29:33] = struct.pack(">I", zlib.crc32(ihdr) & 0xFFFFFFFF)
    return bytes(data)


def jpeg_declaring(width: int, height: int) -> bytes:
    """A tiny JPEG whose frame header declares ``width`` x ``height``."""
    data = bytearray(encode(Image.new("RGB", (8, 8)), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


@pytest.mark.parametrize(
    "data",
    [
        png_declaring(30_000, 30_000),  # above Pillow's own limit
        png_declaring(7_000, 7_000),  # 49 Mpx: above the desk's decoding limit for a PNG
        jpeg_declaring(10_000, 10_000),  # between Pillow's warning and its error
        jpeg_declaring(30_000, 30_000),
    ],
    ids=["png-900Mpx", "png-49Mpx", "jpeg-100Mpx", "jpeg-900Mpx"],
)
def test_decompression_bombs_are_refused_with_a_reason(agent, ticket, data):
    with pytest.raises(DeskError, match="像素过大"):
        photo_add(actor=agent, ticket=ticket, data=data)
    assert not TicketPhoto.objects.exists()


def damaged_files():
    jpeg = encode(upright((400, 300)), "JPEG")
    progressive = encode(upright((400, 300)), "JPEG", progressive=True)
    png = encode(upright((400, 300)), "PNG")
    webp = encode(upright((400, 300)), "WEBP")
    mpo = encode(upright(), "MPO", save_all=True, append_images=[upright()])
    return {
        "jpeg-half": jpeg[: len(jpeg) // 2],
        "progressive-half": progressive[: len(progressive) // 2],
        "png-half": png[: len(png) // 2],
        "webp-half": webp[: len(webp) // 2],
        "mpo-first-half": mpo[: len(mpo) // 4],
        "jpeg-header-only": jpeg[:200],
        "png-signature-only": png[:8],
        "empty": b"",
    }


DAMAGED = damaged_files()


@pytest.mark.parametrize("name", sorted(DAMAGED))
def test_truncated_and_damaged_files_are_refused_with_a_reason(agent, ticket, name):
    with pytest.raises(DeskError, match="不是有效的图片"):
        photo_add(actor=agent, ticket=ticket, data=DAMAGED[name])
    assert not TicketPhoto.objects.exists()


# --- through the ticket page's upload form ---------------------------------------------------
def upload(name: str, data: bytes) -> io.BytesIO:
    handle = io.BytesIO(data)
    handle.name = name
    return handle


PHONE_UPLOADS = {
    "portrait.jpg": (
        encode(as_the_camera_stores(6), "JPEG", exif=phone_exif(6)),
        "JPEG",
    ),
    "camera.jpg": (
        encode(
            as_the_camera_stores(8),
            "MPO",
            save_all=True,
            append_images=[Image.new("RGB", (H, W))],
            exif=phone_exif(8),
        ),
        "JPEG",
    ),
    "cmyk.jpg": (encode(upright().convert("CMYK"), "JPEG"), "JPEG"),
    "progressive.jpg": (encode(upright(), "JPEG", progressive=True), "JPEG"),
    "clear.png": (encode(upright().convert("RGBA"), "PNG"), "PNG"),
    "deep.png": (encode(upright().convert("L").convert("I").convert("I;16"), "PNG"), "PNG"),
    "sticker.webp": (
        encode(upright(), "WEBP", save_all=True, append_images=[Image.new("RGB", (W, H))]),
        "WEBP",
    ),
}


def test_phone_photos_through_the_upload_form_are_stored_upright_and_served(client, agent, ticket):
    client.force_login(agent)
    files = [upload(name, data) for name, (data, _fmt) in PHONE_UPLOADS.items()]
    response = client.post(reverse("tickets:photo_upload", args=[ticket.pk]), {"photo": files})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert f"已上传 {len(PHONE_UPLOADS)} 张照片" in page
    photos = {photo.original_name: photo for photo in ticket.photos.all()}
    assert set(photos) == set(PHONE_UPLOADS)
    for name, (_data, fmt) in PHONE_UPLOADS.items():
        served = client.get(reverse("tickets:photo_file", args=[ticket.pk, photos[name].pk]))
        assert served.status_code == 200
        assert served["Content-Type"] == f"image/{fmt.lower()}"
        image = Image.open(io.BytesIO(b"".join(served.streaming_content)))
        image.load()
        assert (image.format, image.size) == (fmt, (W, H)), name
        assert image.mode in VIEWABLE_MODES[fmt]
        if name != "deep.png":  # grey: its quarters are shades, not the four colours
            assert_upright(image)


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (DAMAGED["jpeg-half"], "不是有效的图片"),
        (DAMAGED["progressive-half"], "不是有效的图片"),
        (png_declaring(30_000, 30_000), "像素过大"),
        (jpeg_declaring(10_000, 10_000), "像素过大"),
        (encode(Image.new("RGB", (8, 8)), "GIF"), "只接受 JPEG、PNG 或 WebP"),
    ],
    ids=["truncated", "truncated-progressive", "png-bomb", "jpeg-bomb", "gif"],
)
def test_a_bad_file_among_good_ones_is_named_and_nothing_is_stored(
    client, agent, ticket, bad, reason
):
    client.force_login(agent)
    good = PHONE_UPLOADS["portrait.jpg"][0]
    files = [upload("good.jpg", good), upload("IMG_9.jpg", bad), upload("also-good.jpg", good)]
    response = client.post(
        reverse("tickets:photo_upload", args=[ticket.pk]), {"photo": files}, follow=True
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "“IMG_9.jpg”" in page
    assert reason in page
    assert not ticket.photos.exists()
    assert not ticket.events.filter(kind="photo").exists()


def test_one_photo_too_many_in_an_upload_stores_none(client, agent, ticket, settings):
    settings.DESK_PHOTOS_PER_TICKET = 2
    client.force_login(agent)
    good = PHONE_UPLOADS["portrait.jpg"][0]
    files = [upload(f"{n}.jpg", good) for n in range(3)]
    response = client.post(
        reverse("tickets:photo_upload", args=[ticket.pk]), {"photo": files}, follow=True
    )
    assert "每张售后单最多 2 张照片" in response.content.decode()
    assert not ticket.photos.exists()


def test_too_many_photos_are_refused_before_any_is_decoded(
    client, agent, ticket, settings, monkeypatch
):
    settings.DESK_PHOTOS_PER_TICKET = 2
    decoded = []
    monkeypatch.setattr(
        "tickets.views.tickets.photo_clean", lambda data: decoded.append(data) or None
    )
    client.force_login(agent)
    files = [upload(f"{n}.jpg", PHONE_UPLOADS["portrait.jpg"][0]) for n in range(3)]
    response = client.post(
        reverse("tickets:photo_upload", args=[ticket.pk]), {"photo": files}, follow=True
    )
    assert "每张售后单最多 2 张照片" in response.content.decode()
    assert decoded == []
    assert not ticket.photos.exists()
