"""``make bench-avatar``: what processing an uploaded avatar costs, for the pictures people send.

    .venv/bin/python -m benchmarks.avatar_pictures [--runs 20] [--json .bench/avatars.json]

The pictures are made here, each within the upload limit: a 12-megapixel phone JPEG (4000 x
3000, photo-like content that compresses as a photo does, turned by its EXIF orientation, GPS
in its EXIF), a 12-megapixel PNG drawing, a 16-megapixel RGBA PNG with a colour profile (the
limit of a format decoded whole), a 48-megapixel JPEG, and a GIF of 100 frames. For each: its
size, ``process_picture``'s median and p95 ms over ``--runs`` runs after a warm-up, and this
process's peak memory (RSS) after them (the files are made in another process, so the peak is
the processing's; it only grows from one row to the next). Then the whole upload of the
12-megapixel JPEG as the app takes it (the multipart request, processing, and storing,
in-process on SQLite): its median. Nothing here passes or fails; the figures are for the
closing note.
"""

import argparse
import io
import json
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from PIL import ExifTags, Image, ImageCms

from app.avatars.pictures import process_picture
from benchmarks.datasets import BENCH_DIR
from config import Config, TestingConfig

LIMITS = {
    "max_pixels": Config.AVATAR_MAX_PIXELS,
    "max_pixels_whole": Config.AVATAR_MAX_PIXELS_WHOLE,
}


def drawing(width: int, height: int) -> Image.Image:
    """Smooth shapes and flat areas, as a screenshot or an illustration has."""
    shapes = [
        Image.linear_gradient("L").resize((width, height)),
        Image.radial_gradient("L").resize((width, height)),
        Image.effect_mandelbrot((width, height), (-2.0, -1.5, 1.0, 1.5), 40),
    ]
    return Image.merge("RGB", shapes)


def photo_like(width: int, height: int) -> Image.Image:
    """The same shapes under per-channel noise: as hard to compress as a photo."""
    channels = [
        Image.blend(Image.effect_noise((width, height), sigma), shape, 0.7)
        for sigma, shape in zip((24, 32, 40), drawing(width, height).split(), strict=True)
    ]
    return Image.merge("RGB", channels)


SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def phone_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "Phone"
    exif[ExifTags.Base.Orientation] = 6  # held upright: stored turned a quarter
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef], gps[ExifTags.GPS.GPSLatitude] = "N", (51.0, 30.0, 26.0)
    return exif


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    output = io.BytesIO()
    image.save(output, fmt, **options)
    return output.getvalue()


def many_frames(side: int, frames: int) -> bytes:
    base = drawing(side, side).quantize(64)
    sequence = [base.rotate(angle) for angle in range(0, 360, 360 // frames)][:frames]
    return encoded(sequence[0], "GIF", save_all=True, append_images=sequence[1:], duration=40)


CASES: dict[str, Callable[[], bytes]] = {
    "GIF, 480 x 480, 100 frames": lambda: many_frames(480, 100),
    "JPEG, 12 MP (4000 x 3000), phone EXIF": lambda: encoded(
        photo_like(4000, 3000), "JPEG", quality=90, exif=phone_exif()
    ),
    "PNG, 12 MP (4000 x 3000), a drawing": lambda: encoded(drawing(4000, 3000), "PNG"),
    "PNG, 16 MP (4000 x 4000), RGBA, sRGB profile": lambda: encoded(
        drawing(4000, 4000).convert("RGBA"), "PNG", icc_profile=SRGB_PROFILE
    ),
    "JPEG, 48 MP (8000 x 6000)": lambda: encoded(photo_like(8000, 6000), "JPEG", quality=75),
}
UPLOAD_CASE = "JPEG, 12 MP (4000 x 3000), phone EXIF"


def make_case(name: str) -> bytes:
    return CASES[name]()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(action: Callable[[], object], runs: int) -> list[float]:
    action()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def upload_times(data: bytes, runs: int) -> list[float]:
    """The whole request, as a signed-in user's browser sends it, against a fresh database."""
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import encode_multipart

    from app import create_app
    from app.extensions import db
    from app.models import User
    from tests.helpers import signed_in_client

    with tempfile.TemporaryDirectory() as directory:

        class UploadConfig(TestingConfig):
            SQLALCHEMY_DATABASE_URI = f"sqlite:///{directory}/avatars.db"
            RATELIMIT_ENABLED = False

        app = create_app(UploadConfig)
        with app.app_context():
            db.create_all()
            user = User(username="ann", password_hash="-")
            user.set_email("ann@example.com")
            db.session.add(user)
            db.session.commit()
            user_id = user.id
        client = signed_in_client(app, user_id)

        def upload() -> None:
            file = FileStorage(io.BytesIO(data), "photo.jpg", content_type="image/jpeg")
            boundary, body = encode_multipart({"avatar": file})
            response = client.post(
                "/settings/avatar",
                data=body,
                content_type=f"multipart/form-data; boundary={boundary}",
            )
            assert response.status_code == 302, response.status_code

        return timed(upload, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--json", default=str(BENCH_DIR / "avatars.json"), help="results file")
    options = parser.parse_args()
    results = []
    # Made in another process, so that this one's peak memory is the processing's alone.
    with ProcessPoolExecutor(max_workers=1) as maker:
        files = dict(zip(CASES, maker.map(make_case, CASES), strict=True))
    print(f"Peak RSS of this process before any picture: {peak_rss_mb():.1f} MB\n")
    print(f"{'picture':42} {'file MB':>8} {'median ms':>10} {'p95 ms':>8} {'peak RSS MB':>12}")
    for name, data in files.items():
        assert len(data) <= Config.AVATAR_MAX_BYTES, (name, len(data))  # one people could send
        picture = process_picture(data, **LIMITS)  # and it is accepted
        times = timed(lambda data=data: process_picture(data, **LIMITS), options.runs)
        row = {
            "picture": name,
            "file_mb": round(len(data) / 1e6, 2),
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "stored_kb": round(sum(map(len, picture.sizes.values())) / 1024, 1),
        }
        results.append(row)
        print(
            f"{name:42} {row['file_mb']:>8} {row['median_ms']:>10} {row['p95_ms']:>8} "
            f"{row['peak_rss_mb']:>12}"
        )
        if name == UPLOAD_CASE:
            upload = upload_times(data, options.runs)
            upload_row = {"median_ms": round(statistics.median(upload), 1)}
    print(
        f"\nThe whole upload of the {UPLOAD_CASE} (request, processing, stored in SQLite): "
        f"median {upload_row['median_ms']} ms"
    )
    photo = next(row for row in results if row["picture"] == UPLOAD_CASE)
    print(f"Stored per user (every size, WebP): {photo['stored_kb']} kB for the photo")
    Path(options.json).parent.mkdir(exist_ok=True)
    with open(options.json, "w") as file:
        json.dump({"processing": results, "upload": upload_row}, file, indent=2)
    print(f"Results written to {options.json}.")


if __name__ == "__main__":
    main()
