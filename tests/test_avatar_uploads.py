"""Uploaded avatars: every refusal with a real hostile file made here, what is served, and where
the picture shows."""

import base64
import io
import json
import re
import struct
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import ExifTags, Image, ImageCms, ImageFile, PngImagePlugin
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from app.avatars import AvatarSource
from app.avatars.pictures import PICTURE_SIZES, process_picture
from app.extensions import db
from app.models import AvatarPicture, User
from app.uploads import upload_request_limit
from config import Config
from tests.helpers import picture_file, processed_picture, signed_in_client, text_of
from tests.test_account_deletion import delete_form
from tests.test_paging import STATEMENT_BOUNDS, busy_site, post_id

RED, BLUE, GREEN = (220, 20, 20), (20, 20, 220), (20, 200, 20)
PICTURE_URL = re.compile(r"/avatar/([0-9a-f]{32})-([0-9]+)\.webp")


def noisy_jpeg(size=(400, 300)) -> bytes:
    """A JPEG whose data does not compress away, so that cutting it leaves a real gap."""
    output = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise(size, 60)] * 3).save(output, "JPEG", quality=95)
    return output.getvalue()


def upload(client, data: bytes, filename: str = "me.png", content_type: str = "image/png"):
    # Encoded here, in memory: the test client would spool a large body to a temporary file
    # that nobody closes when the app refuses the body unread (413).
    file = FileStorage(io.BytesIO(data), filename, content_type=content_type)
    boundary, body = encode_multipart({"avatar": file})
    return client.post(
        "/settings/avatar",
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def picture_urls(html: str) -> list[str]:
    return [match.group(0) for match in PICTURE_URL.finditer(html)]


def served(client, url: str) -> Image.Image:
    response = client.get(url)
    assert response.status_code == 200, url
    return Image.open(io.BytesIO(response.get_data()))


def digest_of(app, user_id: int) -> str | None:
    with app.app_context():
        return db.session.get(User, user_id).avatar_digest


def stored_rows(app) -> list[tuple[int, int, str]]:
    with app.app_context():
        stmt = sa.select(AvatarPicture.user_id, AvatarPicture.pixels, AvatarPicture.digest)
        return list(db.session.execute(stmt.order_by(AvatarPicture.user_id, "pixels")).all())


@pytest.fixture
def ann(app, login) -> int:
    return login("ann")


# Accepted -----------------------------------------------------------------------------------


def test_an_upload_becomes_the_avatar_at_every_size(app, client, ann):
    response = upload(client, picture_file(size=(300, 200)))
    assert response.status_code == 302 and response.location == "/settings/avatar"
    digest = digest_of(app, ann)
    assert [(pixels, stored) for _, pixels, stored in stored_rows(app)] == [
        (pixels, digest) for pixels in PICTURE_SIZES
    ]
    page = client.get("/settings/avatar").get_data(as_text=True)
    assert "Your new picture is your avatar now." in page
    assert re.search(r'<input checked[^>]*value="uploaded">', page)
    for pixels in PICTURE_SIZES:
        image = served(client, f"/avatar/{digest}-{pixels}.webp")
        assert image.format == "WEBP" and image.size == (pixels, pixels)
        assert image.convert("RGB").getpixel((pixels // 2, pixels // 2)) == pytest.approx(
            RED, abs=12
        )


@pytest.mark.parametrize(
    ("fmt", "filename", "content_type"),
    [
        ("PNG", "me.png", "image/png"),
        ("JPEG", "me.jpg", "image/jpeg"),
        ("WEBP", "me.webp", "image/webp"),
        ("GIF", "me.gif", "image/gif"),
        # The type is read from the content: a wrong name and header change nothing.
        ("JPEG", "me.html", "text/html"),
        ("PNG", "me", "application/octet-stream"),
    ],
)
def test_each_accepted_format_whatever_its_name_says(app, client, ann, fmt, filename, content_type):
    response = upload(client, picture_file(fmt), filename, content_type)
    assert response.status_code == 302
    assert digest_of(app, ann) is not None


SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


@pytest.mark.parametrize("mode", ["P", "L", "LA", "CMYK", "I;16", "1"])
def test_every_kind_of_pixel_is_taken_with_or_without_a_colour_profile(app, client, ann, mode):
    for profile in (None, SRGB_PROFILE):
        image = Image.new("RGB", (50, 50), GREEN).convert(mode)
        output = io.BytesIO()
        fmt = "JPEG" if mode == "CMYK" else "PNG"
        image.save(output, fmt, **({"icc_profile": profile} if profile else {}))
        response = upload(client, output.getvalue())
        assert response.status_code == 302, (mode, profile is not None, text_of(response))


def test_a_transparent_picture_stays_transparent(app, client, ann):
    output = io.BytesIO()
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(output, "PNG")
    upload(client, output.getvalue())
    image = served(client, f"/avatar/{digest_of(app, ann)}-64.webp")
    assert image.mode == "RGBA" and image.getpixel((32, 32))[3] == 0


def test_the_square_is_cut_from_the_centre(app, client, ann):
    image = Image.new("RGB", (300, 100), BLUE)
    image.paste(Image.new("RGB", (100, 100), RED), (100, 0))  # only the middle third is red
    output = io.BytesIO()
    image.save(output, "PNG")
    upload(client, output.getvalue())
    shown = served(client, f"/avatar/{digest_of(app, ann)}-128.webp").convert("RGB")
    for point in [(4, 4), (64, 64), (123, 123)]:
        assert shown.getpixel(point) == pytest.approx(RED, abs=25)


def test_the_exif_orientation_is_applied(app, client, ann):
    image = Image.new("RGB", (100, 100), RED)
    image.paste(Image.new("RGB", (100, 50), BLUE), (0, 50))  # stored: red above blue
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 3  # shown turned half a turn: blue above red
    output = io.BytesIO()
    image.save(output, "JPEG", exif=exif, quality=95)
    upload(client, output.getvalue(), "me.jpg", "image/jpeg")
    shown = served(client, f"/avatar/{digest_of(app, ann)}-128.webp").convert("RGB")
    assert shown.getpixel((64, 10)) == pytest.approx(BLUE, abs=30)
    assert shown.getpixel((64, 118)) == pytest.approx(RED, abs=30)


def png_with_gps_and_comments() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SecretCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 30.0, 26.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (0.0, 7.0, 39.0)
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", "home address: 1 Secret Street")
    output = io.BytesIO()
    Image.new("RGB", (200, 200), GREEN).save(
        output, "PNG", exif=exif, pnginfo=text, icc_profile=SRGB_PROFILE
    )
    return output.getvalue()


def test_no_metadata_survives_gps_exif_comments_or_colour_profile(app, client, ann):
    original = png_with_gps_and_comments()
    with Image.open(io.BytesIO(original)) as image:  # what the test sends does carry them
        assert image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert {"exif", "icc_profile", "Comment"} <= set(image.info)
    assert upload(client, original).status_code == 302
    digest = digest_of(app, ann)
    for pixels in PICTURE_SIZES:
        response = client.get(f"/avatar/{digest}-{pixels}.webp")
        data = response.get_data()
        for trace in (b"Exif", b"SecretCam", b"Secret Street", b"ICCP", b"XMP", b"GPS"):
            assert trace not in data, (pixels, trace)
        image = Image.open(io.BytesIO(data))
        assert not image.getexif() and not image.info.get("icc_profile")
        assert set(image.info) <= {"loop", "duration", "background", "timestamp"}


def test_only_the_first_frame_of_a_many_framed_gif_is_kept(app, client, ann):
    frames = [Image.new("RGB", (80, 80), colour) for colour in [GREEN, RED, BLUE] * 40]
    output = io.BytesIO()
    frames[0].save(output, "GIF", save_all=True, append_images=frames[1:], duration=50, loop=0)
    with Image.open(io.BytesIO(output.getvalue())) as sent:
        assert sent.n_frames == 120
    assert upload(client, output.getvalue(), "me.gif", "image/gif").status_code == 302
    image = served(client, f"/avatar/{digest_of(app, ann)}-96.webp")
    assert not getattr(image, "is_animated", False) and getattr(image, "n_frames", 1) == 1
    assert image.convert("RGB").getpixel((48, 48)) == pytest.approx(GREEN, abs=12)


# Refused ------------------------------------------------------------------------------------


def bomb_png(side: int = 20_000) -> bytes:
    """A real 20,000 x 20,000 PNG (400 megapixels of black), some 50 kB on disk."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)  # 1 bit per pixel, grey
    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + side // 8)
    pixels = b"".join(compressor.compress(row * 500) for _ in range(side // 500))
    pixels += compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def jpeg_html_polyglot(where: str) -> bytes:
    html = b"<html><body><script>alert(document.cookie)</script></body></html>"
    if where == "comment":
        return picture_file("JPEG", comment=html)
    return picture_file("JPEG") + html  # after the picture's end


def with_a_byte_flipped(data: bytes, position: int) -> bytes:
    changed = bytearray(data)
    changed[position] ^= 0xFF
    return bytes(changed)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
NOT_A_PICTURE = "That file is not a PNG, JPEG, WebP or GIF picture."
SMUGGLING = "That file carries web page code or a document besides its picture"
DAMAGED = "That picture is damaged or incomplete"
TOO_MANY_PIXELS = "That picture has more than 16 megapixels."  # as a PNG

HOSTILE_FILES = {
    "svg with a script, named as a png": (SVG, "me.png", "image/png", NOT_A_PICTURE),
    "svg": (SVG, "me.svg", "image/svg+xml", NOT_A_PICTURE),
    "html": (
        b"<!doctype html><title>x</title><script>alert(1)</script>",
        "me.gif",
        "image/gif",
        NOT_A_PICTURE,
    ),  # fmt: skip
    "pdf": (
        b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF",
        "me.jpg",
        "image/jpeg",
        NOT_A_PICTURE,
    ),  # fmt: skip
    "bmp, a format not taken": (picture_file("BMP"), "me.bmp", "image/bmp", NOT_A_PICTURE),
    "tiff, a format not taken": (picture_file("TIFF"), "me.png", "image/png", NOT_A_PICTURE),
    "empty file": (b"", "me.png", "image/png", NOT_A_PICTURE),
    "jpeg-html polyglot, in a comment": (
        jpeg_html_polyglot("comment"),
        "me.jpg",
        "image/jpeg",
        SMUGGLING,
    ),  # fmt: skip
    "jpeg-html polyglot, after the end": (
        jpeg_html_polyglot("end"),
        "me.jpg",
        "image/jpeg",
        SMUGGLING,
    ),  # fmt: skip
    "png-pdf polyglot": (picture_file() + b"%PDF-1.4\n", "me.png", "image/png", SMUGGLING),
    "truncated jpeg": (noisy_jpeg()[:20_000], "me.jpg", "image/jpeg", DAMAGED),
    "truncated png": (picture_file(size=(300, 300))[:-40], "me.png", "image/png", DAMAGED),
    "png with a broken checksum": (
        with_a_byte_flipped(picture_file(), -20),
        "me.png",
        "image/png",
        DAMAGED,
    ),  # fmt: skip
    "20,000 x 20,000 pixels": (bomb_png(), "me.png", "image/png", TOO_MANY_PIXELS),
}


@pytest.mark.parametrize("kind", HOSTILE_FILES)
def test_hostile_files_are_refused_with_a_clear_error_and_change_nothing(app, client, ann, kind):
    data, filename, content_type, message = HOSTILE_FILES[kind]
    response = upload(client, data, filename, content_type)
    assert response.status_code == 400
    assert message in text_of(response)
    assert 'aria-invalid="true"' in response.get_data(as_text=True)
    assert digest_of(app, ann) is None and stored_rows(app) == []


def test_sending_no_file_asks_for_one(app, client, ann):
    response = client.post("/settings/avatar", data={}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Choose a picture to upload." in text_of(response)


def test_a_refused_upload_keeps_the_picture_before_it(app, client, ann):
    upload(client, picture_file())
    before = (digest_of(app, ann), stored_rows(app))
    assert upload(client, SVG, "me.svg", "image/svg+xml").status_code == 400
    assert (digest_of(app, ann), stored_rows(app)) == before


def with_header_size(data: bytes, width: int, height: int) -> bytes:
    """``data`` (a small PNG or JPEG) with a header that says it is ``width`` x ``height``."""
    changed = bytearray(data)
    if data.startswith(b"\x89PNG"):
        changed[16:24] = struct.pack(">II", width, height)  # IHDR's first fields
        changed[29:33] = struct.pack(">I", zlib.crc32(changed[12:29]))  # and its checksum
    else:
        start = data.index(b"\xff\xc0") + 5  # SOF0: length, precision, then the size
        changed[start : start + 4] = struct.pack(">HH", height, width)
    return bytes(changed)


# Each just over its limit, yet under Pillow's own (89 megapixels): the app's check refuses it.
OVER_THE_LIMITS = {
    "a 20,000 x 20,000 PNG (Pillow's limit too)": (bomb_png(), 16),
    "a PNG of 5,000 x 5,000": (with_header_size(picture_file("PNG"), 5000, 5000), 16),
    "a JPEG of 8,000 x 8,000": (with_header_size(picture_file("JPEG"), 8000, 8000), 50),
}


@pytest.mark.parametrize("kind", OVER_THE_LIMITS)
def test_too_many_pixels_are_refused_before_anything_is_decoded(app, monkeypatch, kind):
    data, megapixels = OVER_THE_LIMITS[kind]

    def no_decoding(image):
        raise AssertionError("decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_decoding)
    with pytest.raises(ValueError, match=f"more than {megapixels} megapixels"):
        process_picture(
            data,
            max_pixels=app.config["AVATAR_MAX_PIXELS"],
            max_pixels_whole=app.config["AVATAR_MAX_PIXELS_WHOLE"],
        )


def test_a_jpeg_up_to_its_own_limit_is_taken_and_decoded_small(app, client, ann):
    """48 megapixels, a phone's large mode: far over the PNG limit, and taken."""
    photo = picture_file("JPEG", size=(8000, 6000), quality=70)
    assert upload(client, photo, "photo.jpg", "image/jpeg").status_code == 302


def test_a_file_over_the_limit_gets_the_forms_error_not_a_bare_413(app, client, ann):
    app.config["AVATAR_MAX_BYTES"] = 2**20
    just_over = picture_file() + b"\0" * 2**20  # within the request's room for the form
    far_over = b"\0" * 3 * 2**20  # refused before the form is read
    for data, status in ((just_over, 400), (far_over, 413)):
        response = upload(client, data)
        assert response.status_code == status
        assert "That file is over 1 MB. Please upload a smaller picture." in text_of(response)
        assert 'name="avatar"' in response.get_data(as_text=True)  # the form, to try again
    assert digest_of(app, ann) is None


def test_nginx_sends_an_oversized_upload_to_the_same_error(client, ann):
    response = client.get("/settings/avatar/too-large")
    assert response.status_code == 413
    assert "That file is over 10 MB." in text_of(response)


def test_other_pages_keep_the_small_limit_and_the_plain_413_page(client, ann):
    response = client.post("/settings/profile", data={"about_me": "x" * 300_000})
    assert response.status_code == 413
    assert "What you sent is too large." in text_of(response)


@pytest.mark.parametrize("megabytes", [1, 11])
def test_an_upload_while_signed_out_is_not_read_and_asks_to_sign_in(client, megabytes):
    response = upload(client, picture_file() + b"\0" * megabytes * 2**20)
    assert response.status_code == 302 and "/auth/login" in response.location


def test_a_file_where_the_avatar_choice_goes_is_a_clear_400(client, ann):
    file = (io.BytesIO(picture_file()), "me.png", "image/png")
    response = client.post(
        "/settings/avatar/source",
        data={"avatar-source": file},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "Show as my avatar takes text, not a file." in text_of(response)


def test_uploads_are_rate_limited_per_user(app, make_user):
    app.config["AVATAR_UPLOAD_RATE_LIMIT"] = "2 per hour"
    client = signed_in_client(app, make_user("ann"))
    statuses = [upload(client, picture_file(colour=colour)).status_code for colour in (RED, BLUE)]
    statuses.append(upload(client, SVG).status_code)
    statuses.append(upload(client, picture_file()).status_code)
    assert statuses == [302, 302, 429, 429]
    other = signed_in_client(app, make_user("bob"))
    assert upload(other, picture_file()).status_code == 302


# Served -------------------------------------------------------------------------------------


def test_pictures_are_served_immutable_nosniff_and_scriptless(app, client, ann):
    upload(client, picture_file())
    url = f"/avatar/{digest_of(app, ann)}-128.webp"
    response = client.get(url)
    headers = response.headers
    assert headers["Content-Type"] == "image/webp"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert set(headers["Cache-Control"].split(", ")) == {
        "public",
        "max-age=31536000",
        "immutable",
    }
    policy = headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "sandbox" in policy and "script" not in policy
    assert "Set-Cookie" not in headers
    again = client.get(url, headers={"If-None-Match": headers["ETag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "name", ["{digest}-100", "{digest}-0064", "{digest}", "x-64", "{zeros}-64"]
)
def test_anything_but_a_stored_picture_is_a_404(app, client, ann, name):
    upload(client, picture_file())
    name = name.format(digest=digest_of(app, ann), zeros="0" * 32)
    assert client.get(f"/avatar/{name}.webp").status_code == 404


def test_a_new_picture_has_a_new_url_and_the_old_one_is_gone(app, client, ann):
    upload(client, picture_file(colour=RED))
    old = digest_of(app, ann)
    upload(client, picture_file(colour=BLUE))
    new = digest_of(app, ann)
    assert new != old
    assert client.get(f"/avatar/{old}-64.webp").status_code == 404
    assert client.get(f"/avatar/{new}-64.webp").status_code == 200
    assert {digest for _, _, digest in stored_rows(app)} == {new}


def test_the_same_picture_twice_has_the_same_url(app, make_user):
    first = signed_in_client(app, make_user("ann"))
    second = signed_in_client(app, make_user("bob"))
    upload(first, picture_file())
    upload(second, picture_file())
    with app.app_context():
        digests = set(db.session.scalars(sa.select(User.avatar_digest)))
    assert len(digests) == 1
    # Either owner deleting it leaves the other's in place.
    first.post("/settings/avatar/remove")
    assert second.get(f"/avatar/{digests.pop()}-64.webp").status_code == 200


# Choosing and removing ----------------------------------------------------------------------


def test_choose_another_avatar_and_back_then_remove_the_picture(app, client, ann):
    upload(client, picture_file())
    digest = digest_of(app, ann)
    response = client.post("/settings/avatar/source", data={"avatar-source": "generated"})
    assert response.status_code == 302
    profile = client.get("/user/ann").get_data(as_text=True)
    assert digest not in profile and "/avatar/" in profile
    assert digest in client.get("/settings/avatar").get_data(as_text=True)  # kept, unused
    client.post("/settings/avatar/source", data={"avatar-source": "uploaded"})
    assert digest in client.get("/user/ann").get_data(as_text=True)
    response = client.post("/settings/avatar/remove", follow_redirects=True)
    assert "Your picture has been deleted." in text_of(response)
    assert digest_of(app, ann) is None and stored_rows(app) == []
    assert client.get(f"/avatar/{digest}-64.webp").status_code == 404
    with app.app_context():
        assert db.session.get(User, ann).avatar_source.value == "generated"
    page = client.get("/settings/avatar").get_data(as_text=True)
    assert 'value="uploaded"' not in page and "Delete my picture" not in page
    response = client.post("/settings/avatar/remove", follow_redirects=True)
    assert "You have no uploaded picture." in text_of(response)


def test_the_uploaded_choice_needs_a_picture(app, client, ann):
    response = client.post("/settings/avatar/source", data={"avatar-source": "uploaded"})
    assert response.status_code == 400 and "Not a valid choice" in text_of(response)


def test_choosing_a_picture_deleted_in_another_tab_changes_nothing(app, client, ann):
    upload(client, picture_file())
    client.post("/settings/avatar/source", data={"avatar-source": "generated"})
    with app.app_context():
        user = db.session.get(User, ann)
        assert user.avatar_digest is not None
        # Another request deletes the picture after this one loaded the user.
        removed = sa.update(User).where(User.id == ann).values(avatar_digest=None)
        db.session.execute(removed, execution_options={"synchronize_session": False})
        assert user.avatar_digest is not None  # this request's copy is stale
        assert user.choose_avatar(AvatarSource.UPLOADED) is False
        assert user.avatar_source == AvatarSource.GENERATED


def test_an_upload_for_an_account_deleted_meanwhile_stores_nothing(app, ann):
    with app.app_context():
        user = db.session.get(User, ann)
        gone = sa.delete(User).where(User.id == ann)
        db.session.execute(gone, execution_options={"synchronize_session": False})
        assert user.use_picture(processed_picture()) is False
        db.session.rollback()
    assert stored_rows(app) == []


def test_the_settings_pages_need_a_signed_in_user(client):
    for path in ("/settings/avatar", "/settings/avatar/too-large"):
        assert client.get(path).status_code == 302
    for path in ("/settings/avatar/source", "/settings/avatar/remove"):
        assert client.post(path).status_code == 302


# Shown everywhere, at no cost ---------------------------------------------------------------


def test_every_place_with_an_avatar_shows_the_picture(app, client, login, make_user):
    bob = make_user("bob", posts=1)
    bob_client = signed_in_client(app, bob)
    upload(bob_client, picture_file())
    digest = digest_of(app, bob)
    login("ann")
    client.post("/follow/bob")
    bob_client.post("/follow/ann")  # a notification for ann, from bob
    pages = ["/", "/explore", "/user/bob", "/user/bob/popup", "/user/ann/following"]
    pages += ["/user/ann/followers", "/notifications"]
    for page in pages:
        html = client.get(page).get_data(as_text=True)
        assert any(digest in url for url in picture_urls(html)), page
    navbar = signed_in_client(app, bob).get("/explore").get_data(as_text=True)
    navbar_avatar = rf'<img class="avatar [^"]*navbar-avatar" src="/avatar/{digest}-64\.webp"'
    assert re.search(navbar_avatar, navbar)


@pytest.mark.parametrize("per_page", [10, 50])
def test_pictures_cost_no_statement_on_any_feed_page(app, make_user, sql_log, per_page):
    reader = busy_site(app, make_user, per_page)
    client = signed_in_client(app, reader)
    last = per_page - 1
    post, reply = post_id(app, "Post 0 by writer0"), post_id(app, f"Reply {last} to @writer{last}")
    paths = [path.format(post=post, reply=reply) for path in STATEMENT_BOUNDS]

    def statements_per_page() -> list[int]:
        counts = []
        for path in paths:
            client.get(path)  # warm: the first read of a page may differ (who to follow)
            sql_log.clear()
            assert client.get(path).status_code == 200, path
            counts.append(len(sql_log))
        return counts

    before = statements_per_page()
    picture = processed_picture()
    with app.app_context():
        for user in db.session.scalars(sa.select(User)):
            user.use_picture(picture)
        db.session.commit()
    assert statements_per_page() == before
    shown = set(picture_urls(client.get("/").get_data(as_text=True)))
    assert len(shown) >= 2 and all(picture.digest in url for url in shown)


# Deletion and export ------------------------------------------------------------------------


def test_deleting_the_account_deletes_its_pictures(app, client, ann):
    upload(client, picture_file())
    digest = digest_of(app, ann)
    assert client.post("/settings/delete", data=delete_form()).status_code == 302
    assert stored_rows(app) == []
    assert client.get(f"/avatar/{digest}-64.webp").status_code == 404


def test_the_export_holds_the_largest_picture(app, client, ann):
    data = json.loads(client.get("/settings/export/microblog.json").get_data(as_text=True))
    assert data["avatar_picture"] is None
    upload(client, picture_file(colour=BLUE))
    data = json.loads(client.get("/settings/export/microblog.json").get_data(as_text=True))
    picture = data["avatar_picture"]
    assert picture["content_type"] == "image/webp" and picture["width"] == 512
    image = Image.open(io.BytesIO(base64.b64decode(picture["base64"])))
    assert image.size == (512, 512)
    assert image.convert("RGB").getpixel((256, 256)) == pytest.approx(BLUE, abs=12)
    assert data["profile"]["avatar"] == "uploaded"


def test_nginx_takes_an_upload_exactly_as_large_as_the_app_does():
    site = (Path(__file__).parents[1] / "deploy" / "nginx-microblog.conf.template").read_text()
    location = site[site.index("location = /settings/avatar {") :].split("}")[0]
    (size,) = re.findall(r"client_max_body_size (\d+)k;", location)
    assert int(size) * 1024 == upload_request_limit(Config.AVATAR_MAX_BYTES)
    assert "error_page 413 /settings/avatar/too-large;" in location


def test_a_photo_of_several_megabytes_is_taken(app, client, ann):
    """Werkzeug's multipart parser checks a file's reads against the form memory limit, which
    the app keeps small: the upload view raises it too (app/uploads.py)."""
    photo = noisy_jpeg(size=(1600, 1200))
    assert len(photo) > 2**20
    assert upload(client, photo, "photo.jpg", "image/jpeg").status_code == 302
