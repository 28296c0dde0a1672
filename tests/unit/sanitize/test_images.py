"""Image metadata (EXIF with GPS, XMP, IPTC, comments, text chunks) is removed and the
pixels are not touched: images written by Pillow, read back by Pillow."""

from __future__ import annotations

import io
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, PngImagePlugin

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.sanitize.images import image_format, strip_metadata
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

OWNER = "Ana Beatriz Souza"
SERIAL = "CAM-SN-4815162342"
XMP = (
    b'<?xpacket begin="" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/">'
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description '
    b'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>Ana Beatriz Souza</dc:creator>'
    b"</rdf:Description></rdf:RDF></x:xmpmeta>"
)
SECRETS = (OWNER.encode(), SERIAL.encode(), b"xmpmeta", b"GPS", b"Exif")


def photo(mode: str = "RGB", size: tuple[int, int] = (37, 23), seed: int = 7) -> Image.Image:
    """A noisy image (flat colours would hide a decoder that ignores the data)."""
    bands = len(mode) if mode != "P" else 1
    data = bytes(
        (i * 131 + seed * 17 + (i // 3) * 7) % 256 for i in range(size[0] * size[1] * bands)
    )
    return Image.frombytes(mode, size, data)


def exif() -> Image.Exif:
    """Camera, owner and a GPS position, as a phone writes them."""
    tags = Image.Exif()
    tags[0x010F] = "PhoneMaker"  # Make
    tags[0x013B] = OWNER  # Artist
    tags[0xA431] = SERIAL  # BodySerialNumber
    gps = tags.get_ifd(0x8825)
    gps[1], gps[2] = "S", (23.0, 33.0, 7.5)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "W", (46.0, 38.0, 1.2)  # GPSLongitudeRef, GPSLongitude
    return tags


def save(image: Image.Image, fmt: str, **params: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def iptc_app13() -> bytes:
    """A Photoshop APP13 segment holding an IPTC By-line (2:80), as editors write it."""
    record = b"\x1c\x02\x50" + struct.pack(">H", len(OWNER)) + OWNER.encode()
    resource = b"8BIM\x04\x04\x00\x00" + struct.pack(">I", len(record)) + record
    payload = b"Photoshop 3.0\x00" + resource
    return b"\xff\xed" + struct.pack(">H", len(payload) + 2) + payload


def gif_xmp_extension() -> bytes:
    """XMP in a GIF application extension ("XMP DataXMP"), with its magic trailer."""
    data = XMP + bytes([1]) + bytes(range(255, -1, -1)) + b"\x00"
    blocks = b"".join(
        bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255)
    )
    return b"\x21\xff\x0bXMP DataXMP" + blocks + b"\x00"


def pixels(raw: bytes) -> list[tuple[str, tuple[int, int], bytes]]:
    """Every frame of the decoded image (Pillow reads it to the end)."""
    image = Image.open(io.BytesIO(raw))
    image.load()
    frames = []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        frames.append((image.mode, image.size, image.convert("RGBA").tobytes()))
    return frames


def assert_clean_and_same(original: bytes, stripped: bytes | None) -> None:
    assert stripped is not None
    for secret in SECRETS:
        assert secret not in stripped, secret
    assert pixels(stripped) == pixels(original)
    info = Image.open(io.BytesIO(stripped)).info
    assert not {"exif", "xmp", "comment", "Author", "Comment", "XML:com.adobe.xmp"} & set(info)
    assert not Image.open(io.BytesIO(stripped)).getexif()


def test_png_text_chunks_exif_and_xmp_are_removed() -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", OWNER)
    info.add_text("Comment", f"shot by {OWNER}, serial {SERIAL}", zip=True)  # zTXt
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())  # iTXt, where XMP lives in a PNG
    info.add_text("Title", "Família reunida", zip=False)
    original = save(photo("RGBA"), "PNG", pnginfo=info, exif=exif(), dpi=(300, 300))
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"):
        assert chunk in original
    stripped = strip_metadata(original)
    assert_clean_and_same(original, stripped)
    for chunk in (b"tEXt", b"zTXt", b"iTXt", b"eXIf"):
        assert chunk not in stripped
    assert Image.open(io.BytesIO(stripped)).info["dpi"] == pytest.approx((300, 300), abs=0.01)


def test_a_palette_png_keeps_its_palette_and_transparency() -> None:
    image = photo("P")
    image.info["transparency"] = 3
    original = save(image, "PNG", pnginfo=_png_text(), transparency=3)
    stripped = strip_metadata(original)
    assert_clean_and_same(original, stripped)
    assert b"PLTE" in stripped and b"tRNS" in stripped


def _png_text() -> PngImagePlugin.PngInfo:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", OWNER)
    return info


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_exif_gps_xmp_iptc_and_comments_are_removed(progressive: bool) -> None:
    base = save(
        photo(),
        "JPEG",
        exif=exif(),
        xmp=XMP,
        comment=f"{OWNER} {SERIAL}",
        quality=90,
        progressive=progressive,
    )
    original = base[:2] + iptc_app13() + base[2:]
    assert OWNER.encode() in original and b"Photoshop 3.0" in original
    stripped = strip_metadata(original)
    assert_clean_and_same(original, stripped)
    assert b"Photoshop 3.0" not in stripped and b"\xff\xe1" not in stripped[:200]


def test_jpeg_colour_profile_and_adobe_marker_are_kept() -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    original = save(photo("CMYK"), "JPEG", exif=exif(), icc_profile=icc)
    assert b"Adobe" in original  # Pillow writes it for CMYK: decoders need it
    stripped = strip_metadata(original)
    assert_clean_and_same(original, stripped)
    assert Image.open(io.BytesIO(stripped)).info["icc_profile"] == icc
    assert b"Adobe" in stripped


def test_bytes_after_the_end_of_an_image_are_removed() -> None:
    appended = b"PK\x03\x04 a zip, or a phone's motion-photo video, " + OWNER.encode()
    for fmt in ("JPEG", "PNG", "GIF"):
        original = save(photo(), fmt)
        stripped = strip_metadata(original + appended)
        assert stripped == original, fmt


def test_gif_comments_and_xmp_are_removed_animation_kept() -> None:
    frames = [photo("P", seed=seed) for seed in range(3)]
    animated = save(
        frames[0],
        "GIF",
        save_all=True,
        append_images=frames[1:],
        loop=0,
        duration=80,
        comment=f"{OWNER} {SERIAL}",
    )
    original = animated[:-1] + gif_xmp_extension() + animated[-1:]
    assert pixels(original) == pixels(animated)  # the XMP extension is well-formed
    stripped = strip_metadata(original)
    assert_clean_and_same(original, stripped)
    assert b"NETSCAPE2.0" in stripped and len(pixels(stripped)) == 3


@pytest.mark.parametrize("lossless", [True, False])
def test_webp_exif_and_xmp_chunks_and_flags_are_removed(lossless: bool) -> None:
    original = save(photo("RGBA"), "WEBP", exif=exif(), xmp=XMP, lossless=lossless)
    assert b"EXIF" in original and b"XMP " in original
    stripped = strip_metadata(original)
    assert_clean_and_same(original, stripped)
    assert stripped[12:16] == b"VP8X" and stripped[20] & 0x0C == 0  # EXIF and XMP flags off
    assert int.from_bytes(stripped[4:8], "little") == len(stripped) - 8


def test_an_image_without_metadata_is_unchanged() -> None:
    for fmt, params in (("PNG", {}), ("JPEG", {}), ("GIF", {}), ("WEBP", {"lossless": True})):
        original = save(photo(), fmt, **params)
        assert strip_metadata(original) == original, fmt


def test_malformed_and_cut_images() -> None:
    png = save(photo(), "PNG", pnginfo=_png_text())
    assert strip_metadata(png[:-20]) is None  # cut, and not said to be
    cut = strip_metadata(png[:-20], truncated=True)  # the body limit cut it
    assert cut is not None and OWNER.encode() not in cut and cut.startswith(png[:33])
    unknown_critical = png[:33] + b"\x00\x00\x00\x01ABCD\x00\x00\x00\x00\x00" + png[33:]
    assert strip_metadata(unknown_critical) is None
    assert strip_metadata(b"\xff\xd8\xff\xe0\x00\x10JFIF") is None
    assert strip_metadata(b"not an image") is None
    assert image_format(b"GIF89a...") == "gif" and image_format(b"RIFF\x00\x00\x00\x00WAVE") is None


# -- through the sanitizer --------------------------------------------------------------


def response_with(body: bytes, content_type: str, **config: object) -> HttpResponse:
    exchange = request_exchange(content_type="application/json").replace(
        response=HttpResponse(status=200, headers=(("content-type", content_type),), body=body)
    )
    out = sanitizer(**config).sanitize(exchange).response
    assert out is not None
    return out


def test_the_sanitizer_keeps_a_photo_without_its_metadata() -> None:
    original = save(photo(), "JPEG", exif=exif(), xmp=XMP)
    for content_type in ("image/jpeg", "application/octet-stream", ""):
        out = response_with(original, content_type, binary_bodies="base64")
        assert not out.body_dropped, content_type
        assert_clean_and_same(original, out.body)
    assert_clean_and_same(original, response_with(original, "image/jpeg").body)  # the default
    skipped = response_with(original, "image/jpeg", binary_bodies="skip")
    assert skipped.body_dropped and skipped.body_drop_reason == "binary_skipped"


def test_an_image_type_with_other_bytes_is_not_kept() -> None:
    out = response_with(
        b"\x00\x01 not a png " + OWNER.encode(), "image/png", binary_bodies="base64"
    )
    assert out.body_dropped and out.body_drop_reason == "binary_unsanitizable"
    heic = response_with(b"\x00\x00\x00\x18ftypheic", "image/heic", binary_bodies="base64")
    assert heic.body_drop_reason == "structured_binary"


# -- properties -------------------------------------------------------------------------

FORMATS = {
    "PNG": lambda image, meta: save(image, "PNG", pnginfo=meta[0], exif=meta[1]),
    "JPEG": lambda image, meta: save(
        image.convert("RGB"), "JPEG", exif=meta[1], xmp=XMP, comment=OWNER
    ),
    "GIF": lambda image, meta: save(image, "GIF", comment=OWNER),
    "WEBP": lambda image, meta: save(image, "WEBP", exif=meta[1], xmp=XMP, lossless=True),
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(sorted(FORMATS)),
    st.sampled_from(["RGB", "RGBA", "L", "P"]),
    st.integers(1, 40),
    st.integers(1, 40),
    st.integers(0, 10_000),
    st.text(min_size=1, max_size=40),
)
def test_a_stripped_image_keeps_its_pixels(
    fmt: str, mode: str, width: int, height: int, seed: int, words: str
) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_itxt("Description", f"{OWNER} {words}")
    original = FORMATS[fmt](photo(mode, (width, height), seed), (info, exif()))
    assert_clean_and_same(original, strip_metadata(original))
