"""metadata.open_strip: the streamed strip equals metadata.clean byte for byte on the format
corpus, whatever the chunk sizes (whole, random, one byte at a time: boundaries fall inside
markers, segment lengths, chunk and box headers); hostile inputs are refused within bounds;
after an ImageError every call fails; the JPEG, GIF and PNG walks never hold the image data,
and a JPEG XL is planned from bounded ranged reads, then passed through."""

from __future__ import annotations

import hashlib
import random
import re
import struct
import tracemalloc
import zlib

import gain_map_builders as g
import heif_shapes as hs
import image_builders as b
import isobmff_builders as ib
import jxl_shapes as jxs
import metadata
import payload_builders as pb
import png_shapes as pngs
import pytest
import webp_shapes as webps
from metadata_checks import expected_kept_exif, exif_of, traced_peak
from metadata import ImageError
from metadata.formats import av1, gif, hevc, jpeg, png, ranged_input, walks
from metadata.formats.heif.stream_checks import NalUnits, Obus
from metadata.formats.isobmff import box
from metadata.limits import MAX_CODED_UNITS, MAX_HEIF_CHECKED_AHEAD, MAX_STREAM_HEAD_BYTES

MAX_BUFFERED = 64 * 1024 * 1024


def _progressive_with_exif_between_scans() -> bytes:
    """A progressive JPEG with an EXIF APP1 and a COM after its first scan."""
    data = b.jpeg(progressive=True, exif=False)
    first_scan = b.jpeg_structure(data).scan_start
    second_sos = data.index(b"\xff\xda", first_scan + 2)
    second_scan = data.rfind(b"\xff\xc4", first_scan, second_sos)
    at = second_scan if second_scan > 0 else second_sos
    later = b.jpeg_segment(0xE1, b"Exif\x00\x00" + b.exif_block(6)[6:]) + b.jpeg_segment(0xFE, b"later " + b.SECRET)
    return data[:at] + later + data[at:]


CORPUS = {
    "jpeg everything": b.jpeg_with_everything,
    "jpeg progressive": lambda: b.jpeg(6, progressive=True),
    "jpeg cmyk": lambda: b.jpeg(mode="CMYK"),
    "jpeg truncated in a scan": lambda: b.jpeg()[:-40],
    "jpeg with a trailer": lambda: b.jpeg() + b"\x00trailer" * 10,
    "jpeg fill bytes and a wrong length": lambda: b.insert_after_soi(b.jpeg(), b"\xff\xff\xff\xfe\x00\x05abcde", b"\xff\xff"),
    "jpeg exif after the first scan": _progressive_with_exif_between_scans,
    "ultra hdr": g.ultra_hdr,
    "ultra hdr progressive": lambda: g.ultra_hdr(progressive=True),
    "apple hdr": g.apple_hdr,
    "iso only": g.iso_only,
    "mpo preview and disparity": g.preview_and_disparity,
    "png": b.png,
    "apng": lambda: b.png(2, animated=True),
    "png with a trailer": lambda: b.png(6) + b"after IEND " + b.SECRET,
    "png text after the image data": lambda: b.png_insert_before_iend(b.png(3), pngs.TEXT_AFTER, pngs.ITXT_AFTER),
    "png over four idats": lambda: pngs.SOURCE,
    "png late exif": lambda: _png_with_late_exif(),
    "png cut inside an idat": lambda: pngs.SOURCE[: pngs.idat_span(2)[0] + 300],
    "png cut inside an idat header": lambda: pngs.SOURCE[: pngs.idat_span(2)[0] + 6],
    "png cut inside the last crc": lambda: pngs.SOURCE[: pngs.idat_span(pngs.IDAT_PARTS - 1)[1] - 2],
    "png cut inside a text chunk": lambda: pngs.SOURCE[: pngs.idat_span(pngs.IDAT_PARTS - 1)[1] + 20],
    "png idat failing its crc": lambda: pngs.with_idat_crc(pngs.SOURCE, 1, 0x12345678),
    "png idat with damaged data": lambda: _png_with_damaged_data(),
    "png cut off idat failing its crc": lambda: pngs.with_idat_crc(pngs.SOURCE, 0, 0)[: pngs.idat_span(2)[0] + 40],
    "webp": b.webp,
    "gif": lambda: b.gif(animated=True),
    "tiff": b.tiff,
    "heic": lambda: ib.encode_heic(b.pattern()),
    "avif": lambda: ib.encode_avif(b.pattern()),
    "jxl": lambda: ib.encode_jxl(b.pattern()),
    **{f"jxl {name}": make for name, make in {
        "bare": lambda: jxs.bare_codestream((120, 80)),
        "bare with bytes after its last frame": lambda: jxs.bare_codestream((120, 80)) + jxs.TRAILER,
        "jxlc and metadata boxes": lambda: _jxl_with_everything(parts=1),
        "jxlp in three and metadata boxes": lambda: _jxl_with_everything(parts=3),
        "jxlc with bytes after its last frame": lambda: ib.jxl_container((1, jxs.XML), codestream=jxs.bare_codestream() + jxs.TRAILER),
        "jxlp with the last frame inside the last part": lambda: _jxlp_split(lambda c, t: (c[:t], c[t : 2 * t], c[2 * t :] + jxs.TRAILER)),
        "jxlp with a part after the last frame": lambda: _jxlp_split(lambda c, t: (c[: 2 * t], c[2 * t :], jxs.TRAILER), jxs.XML),
        "jxlp cut inside a part": lambda: _jxlp_split(lambda c, t: (c[:t], c[t:] + jxs.TRAILER[:10], jxs.TRAILER[10:])),
        "jhgm gain map": lambda: ib.jxl_container((0, ib.jxl_exif_box(jxs.EXIF)), (1, jxs.gain_map_box()), (1, jxs.XML), parts=2),
        "everything at once": lambda: _jxl_everything_at_once(),
        "bytes after the codestream box": lambda: ib.jxl_container() + b"not a box " + b.SECRET,
        "jxlp in two, nothing after the last frame": lambda: _jxlp_split(lambda c, t: (c[: 2 * t], c[2 * t :])),
    }.items()},
}


def _jxl_with_everything(parts: int) -> bytes:
    everything = [(0, ib.jxl_exif_box(jxs.EXIF)), (0, box(b"jxll", b"\x05")), (1, jxs.XML), (1, jxs.JUMB),
                  (parts, jxs.BROB_EXIF), (parts, jxs.JBRD), (parts, jxs.MALFORMED_GAIN_MAP)]  # fmt: skip
    return ib.jxl_container(*everything, parts=parts)


def _jxlp_split(cut, *between: bytes) -> bytes:
    codestream = jxs.bare_codestream((300, 200))
    parts = jxs.jxlp_parts(*cut(codestream, len(codestream) // 3))
    return jxs.container_of(*parts[:-1], *between, parts[-1])


def _jxl_everything_at_once() -> bytes:
    codestream = jxs.bare_codestream((300, 200))
    third = len(codestream) // 3
    first, second, last = jxs.jxlp_parts(codestream[:third], codestream[third : 2 * third], codestream[2 * third :] + jxs.TRAILER)
    return jxs.container_of(ib.jxl_exif_box(jxs.EXIF), first, jxs.XML, jxs.JUMB, jxs.gain_map_box(), second, jxs.BROB_EXIF, jxs.JBRD, last, jxs.XML)


def _png_with_damaged_data() -> bytes:
    damaged = bytearray(pngs.SOURCE)
    damaged[pngs.idat_span(2)[0] + 8 + 50] ^= 0xFF  # a damaged deflate byte: the CRC no longer matches
    return bytes(damaged)


def _chunks_random(data: bytes, seed: int) -> list[bytes]:
    rng = random.Random(seed)  # derandomized: the same cuts every run
    out, pos = [], 0
    while pos < len(data):
        step = rng.choice((1, 2, 3, 5, 7, 64, 333, 4096))
        out.append(data[pos : pos + step])
        pos += step
    return out


def _streamed(data: bytes, chunks: list[bytes], **options) -> tuple[bytes, metadata.StreamStrip]:
    view = memoryview(data)
    strip = metadata.open_strip(data[:16], len(data), lambda start, end: bytes(view[start:end]), max_buffered=MAX_BUFFERED, **options)
    out = b"".join(strip.feed(chunk) for chunk in chunks) + strip.finish()
    return out, strip


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_streamed_equals_buffered_whole_random_and_byte_at_a_time(name):
    data = CORPUS[name]()
    expected = metadata.clean(data)
    for cut in ("whole", "random", "bytes"):
        chunks = {"whole": [data], "random": _chunks_random(data, 16), "bytes": [data[i : i + 1] for i in range(len(data))]}[cut]
        out, strip = _streamed(data, chunks)
        assert out == expected.data, f"{name}, fed {cut}"
        assert (strip.format, strip.mime_type, strip.removed, strip.kept) == (
            expected.format, expected.mime_type, expected.removed, expected.kept), f"{name}, fed {cut}"


def test_exif_after_the_first_scan_is_removed_but_never_rotates_the_image():
    stripped = metadata.clean(_progressive_with_exif_between_scans())
    assert b"Exif\x00\x00" not in stripped.data  # orientation 6 there is not carried into the head
    assert {"exif", "comment"} <= set(stripped.removed)
    assert b.SECRET not in stripped.data


def test_every_kind_any_exif_block_after_the_first_scan_held_is_reported():
    data = b.jpeg(progressive=True, exif=False)
    first_scan = b.jpeg_structure(data).scan_start
    at = data.index(b"\xff\xda", first_scan + 2)  # the second scan's SOS
    everything = b.exif_block(6)  # GPS, MakerNote and a thumbnail
    bare = b.exif_block(3, gps=False, makernote=False, thumbnail=False)
    later = b.jpeg_segment(0xE1, everything) + b.jpeg_segment(0xE1, bare)
    stripped = metadata.clean(data[:at] + later + data[at:])
    assert {"exif", "gps", "makernote", "thumbnail"} <= set(stripped.removed)
    assert b"Exif\x00\x00" not in stripped.data


def test_exif_after_the_first_scan_is_reported_beside_the_head_exif_and_a_trailer():
    # The head holds a lone minimal EXIF block (a stripped image's: nothing to report for it
    # alone); a block after the first scan and bytes after EOI are reported with it, exactly.
    head = metadata.strip(b.jpeg(6, progressive=True, xmp=False, comment=False, icc=False))
    assert exif_of(head) == expected_kept_exif(6, False)
    first_scan = b.jpeg_structure(head).scan_start
    at = head.index(b"\xff\xda", first_scan + 2)  # the second scan's SOS
    later = b.jpeg_segment(0xE1, b.exif_block(3))  # GPS, MakerNote and a thumbnail
    stripped = metadata.clean(head[:at] + later + head[at:] + b"after EOI " + b.SECRET)
    assert stripped.removed == ("exif", "gps", "makernote", "thumbnail", "trailer")
    assert stripped.data == head


def test_every_format_but_tiff_streams_natively():
    for name in ("jpeg everything", "gif", "png", "jxl"):
        assert metadata.open_strip(CORPUS[name]()[:16], 10, None, max_buffered=1).native, name
    for name in ("webp", "heic"):  # their heads are planned from ranged reads
        data = CORPUS[name]()
        assert metadata.open_strip(data[:16], len(data), lambda s, e, d=data: d[s:e], max_buffered=1).native, name
    for name in ("tiff",):
        assert not metadata.open_strip(CORPUS[name]()[:16], 10, None, max_buffered=100).native, name


def test_the_jpeg_head_is_written_before_the_image_data_ends():
    data = b.jpeg(6, size=(640, 480))
    scan_start = b.jpeg_structure(data).scan_start
    strip = metadata.open_strip(data[:16], len(data), None, max_buffered=0)
    assert strip.mime_type == "image/jpeg"
    first = strip.feed(data[: scan_start + 1000])
    assert first.startswith(b"\xff\xd8") and b"\xff\xda" in first  # the head, then scan data as it came
    assert b.SECRET not in first


def test_changing_a_chunk_after_feeding_it_changes_nothing():
    data = b.jpeg_with_everything()
    expected = metadata.clean(data).data
    strip = metadata.open_strip(data[:16], len(data), None, max_buffered=0)
    out = []
    for chunk in _chunks_random(data, 3):
        piece = bytearray(chunk)
        out.append(strip.feed(piece))
        piece[:] = b"\x00" * len(piece)
    out.append(strip.finish())
    assert b"".join(out) == expected


def test_after_an_error_every_call_fails():
    bad = b"\xff\xd8\xff\xe1\x00\x10" + b"\x00" * 14 + b"\xff\x02\x00\x04"  # an unknown marker
    strip = metadata.open_strip(bad[:16], len(bad), None, max_buffered=0)
    with pytest.raises(ImageError, match="unsupported marker 0xFF02"):
        strip.feed(bad)
    with pytest.raises(ImageError, match="failed earlier"):
        strip.feed(b"\xff\xd9")
    with pytest.raises(ImageError, match="failed earlier"):
        strip.finish()


def test_removed_is_known_only_at_finish_and_a_finished_strip_takes_no_more():
    data = b.jpeg()
    strip = metadata.open_strip(data[:16], len(data), None, max_buffered=0)
    strip.feed(data)
    with pytest.raises(ImageError, match="only at finish"):
        strip.removed  # noqa: B018
    strip.finish()
    assert "exif" in strip.removed
    with pytest.raises(ImageError, match="has finished"):
        strip.feed(b"")


def test_a_held_format_over_its_cap_is_refused_before_and_while_reading():
    data = b.tiff()
    with pytest.raises(ImageError, match="over the 100-byte limit"):
        metadata.open_strip(data[:16], len(data), None, max_buffered=100)
    strip = metadata.open_strip(data[:16], 50, None, max_buffered=100)  # a size that lied
    with pytest.raises(ImageError, match="over the 100-byte limit"):
        strip.feed(data)


def test_a_jpeg_head_with_no_scan_is_refused_at_its_cap():
    comment = b.jpeg_segment(0xFE, b"x" * 65000)
    strip = metadata.open_strip(b"\xff\xd8\xff\xfe" + b"\x00" * 12, 1 << 40, None, max_buffered=0)
    strip.feed(b"\xff\xd8")
    with pytest.raises(ImageError, match=f"no scan begins in the first {MAX_STREAM_HEAD_BYTES} bytes"):
        for _ in range(MAX_STREAM_HEAD_BYTES // len(comment) + 2):
            strip.feed(comment)


def test_a_jpeg_head_up_to_max_stream_head_bytes_streams_and_one_byte_longer_is_refused(monkeypatch):
    # MAX_STREAM_HEAD_BYTES (32 MB) patched down at the module that reads it. Fed a byte at a time,
    # the head is held until the byte that completes the first SOS header: the bytes before that
    # one may fill the cap, one more is refused.
    data = b.jpeg(exif=False, comment=True, xmp=False, icc=False)
    sos = b.jpeg_structure(data).scan_start
    assert data[sos : sos + 2] == b"\xff\xda"
    head = sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big") - 1
    expected = metadata.clean(data).data
    monkeypatch.setattr(jpeg, "MAX_STREAM_HEAD_BYTES", head)
    assert _streamed(data, [data[i : i + 1] for i in range(len(data))])[0] == expected
    monkeypatch.setattr(jpeg, "MAX_STREAM_HEAD_BYTES", head - 1)
    with pytest.raises(ImageError, match=f"no scan begins in the first {head - 1} bytes"):
        _streamed(data, [data[i : i + 1] for i in range(len(data))])

@pytest.mark.parametrize("first", [b"\xff\xd9", b"\x00\xd8", b"GI"])
def test_a_jpeg_walk_refuses_a_first_chunk_of_two_bytes_without_soi_at_once(first):
    walk = jpeg.JpegWalk(size=100, read_range=None, keep_copyright=False)
    assert walk.feed(b"\xff") == b""  # one byte: too few to tell
    walk = jpeg.JpegWalk(size=100, read_range=None, keep_copyright=False)
    with pytest.raises(ImageError, match=f"^{re.escape('JPEG: no start-of-image marker at offset 0')}$"):
        walk.feed(first)


def test_a_long_fill_run_is_walked_without_being_held():
    data = b.jpeg()
    at = b.jpeg_structure(data).scan_start
    padded = data[:at] + b"\xff" * 3_000_000 + data[at:]
    walk = jpeg.JpegWalk(size=len(padded), read_range=None, keep_copyright=False)
    for offset in range(0, len(padded), 65536):
        walk.feed(padded[offset : offset + 65536])
        assert len(walk._buf) <= 65536 + 2  # noqa: SLF001 - the walk's own buffer
    walk.finish()
    assert metadata.clean(padded).data == metadata.clean(data).data


def test_the_jpeg_walk_holds_only_the_bytes_it_cannot_yet_decide():
    data = b.jpeg()
    at = b.jpeg_structure(data).scan_start
    padded = data[:at] + b"\xff" * 1000 + data[at:] + b"trailer " * 100
    walk = jpeg.JpegWalk(size=len(padded), read_range=None, keep_copyright=False)
    out = [walk.feed(padded[: at + 1000])]
    assert bytes(walk._buf) == b"\xff"  # noqa: SLF001 - a fill run's last FF may begin a marker
    out.append(walk.feed(padded[at + 1000 : at + 1003]))
    assert bytes(walk._buf) == b"\xff\xda\x00"  # noqa: SLF001 - the SOS segment begun, without the fill before it
    out.append(walk.feed(padded[at + 1003 :]))
    assert bytes(walk._buf) == b""  # noqa: SLF001 - nothing after the end of the image is held
    out.append(walk.finish())
    assert b"".join(out) == metadata.strip(data)


def test_jpeg_scan_data_is_passed_from_the_callers_chunks_without_being_held():
    # Scan data of 3 chunks of 1 MB or so (no FF in it, so no chunk ends on a possible marker),
    # then EOI alone: after the head, each chunk's scan data is copied once, straight from the
    # chunk (_scan_in_place). Buffered first, the walk would hold a chunk and copy it twice more.
    plain = b.jpeg(exif=False, comment=False, xmp=False, icc=False)
    sos = b.jpeg_structure(plain).scan_start
    scan_data_at = sos + 2 + struct.unpack(">H", plain[sos + 2 : sos + 4])[0]
    piece = 1024 * 1024
    data = plain[:scan_data_at] + bytes(range(255)) * (3 * piece // 255) + b"\xff\xd9"
    first = scan_data_at + 1000
    chunks = [data[at : min(at + piece, len(data) - 2)] for at in range(first, len(data) - 2, piece)] + [data[-2:]]
    walk = jpeg.JpegWalk(size=len(data), read_range=None, keep_copyright=False)
    out = hashlib.sha256(walk.feed(data[:first]))
    tracemalloc.start()
    try:
        for chunk in chunks:
            out.update(walk.feed(chunk))
            out.update(walk.feed(b""))  # an empty chunk in the scan data changes nothing
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    out.update(walk.finish())
    assert out.digest() == hashlib.sha256(data).digest()  # nothing to strip: the input, byte for byte
    assert peak < piece * 3 // 2, peak  # one copy of one chunk


GIF_HOSTILE_STREAMS = {
    "data after the image end": lambda data: _gif_with_run_on(data),
    "no trailer": lambda data: data[: data.rindex(b"\x3b")],
    "sub-block past the end": lambda data: data[:-1] + b"\x21\xfe\xff" + b"short",
}


def _gif_with_run_on(data: bytes) -> bytes:
    position = data.index(b"\x2c", 13 + 3 * 256) + 11
    while data[position]:
        position += 1 + data[position]
    swallowed = b"\x21\xfe" + b.gif_sub_blocks(b"comment " + b.SECRET)
    return data[:position] + bytes((len(swallowed),)) + swallowed + data[position:]


@pytest.mark.parametrize("case", sorted(GIF_HOSTILE_STREAMS))
def test_a_hostile_gif_is_refused_however_it_is_fed(case):
    data = GIF_HOSTILE_STREAMS[case](b.gif(comment=False, extensions=False))
    with pytest.raises(ImageError) as whole:
        metadata.clean(data)
    for chunks in (_chunks_random(data, 5), [data[i : i + 1] for i in range(len(data))]):
        with pytest.raises(ImageError) as streamed:
            _streamed(data, chunks)
        assert str(streamed.value) == str(whole.value)


def test_a_gif_extension_held_up_to_max_held_extension_streams_and_one_byte_more_is_refused(monkeypatch):
    # MAX_HELD_EXTENSION (16 MB and a little) patched to this ICC extension's size at the module
    # that reads it. Fed a byte at a time, the extension is held until its terminator arrives: an
    # extension of the cap's size is held whole, one a byte longer is refused.
    data = b.gif(comment=False, extensions=False)
    assert data[10] & 0x87 == 0x87  # a global colour table of 256 entries
    position = 13 + 3 * 256
    extension = b.gif_application_extension(gif.ICC_APPLICATION, b.icc_profile())
    with_icc = data[:position] + extension + data[position:]
    expected = metadata.clean(with_icc).data
    assert b.icc_profile()[:100] in expected  # the profile is kept, so the extension is held
    monkeypatch.setattr(gif, "MAX_HELD_EXTENSION", len(extension))
    assert _streamed(with_icc, [with_icc[i : i + 1] for i in range(len(with_icc))])[0] == expected
    monkeypatch.setattr(gif, "MAX_HELD_EXTENSION", len(extension) - 1)
    with pytest.raises(ImageError, match=f"the extension at offset {position} is longer than {len(extension) - 1} bytes"):
        _streamed(with_icc, [with_icc[i : i + 1] for i in range(len(with_icc))])

def test_a_gif_comment_is_walked_over_without_being_held():
    data = b.gif(comment=False, extensions=False)
    huge = data[:-1] + b"\x21\xfe" + b.gif_sub_blocks(b"x" * 3_000_000) + b"\x3b"
    strip = metadata.open_strip(huge[:16], len(huge), None, max_buffered=0)
    walk = strip._walk  # noqa: SLF001
    out = []
    for offset in range(0, len(huge), 65536):
        out.append(strip.feed(huge[offset : offset + 65536]))
        assert len(walk._buf) <= 65536 + 256  # noqa: SLF001
    out.append(strip.finish())
    assert b"".join(out) == data and strip.removed == ("comment",)


def test_the_jpeg_walk_holds_a_chunk_not_the_image():
    """A 40 MB scan passes through: the walk's buffer never holds more than about a chunk."""
    data = b.jpeg(exif=True, size=(64, 64))
    structure = b.jpeg_structure(data)
    body = bytes(range(256)).replace(b"\xff", b"\x00") * (40 * 4096)  # scan-like data without markers
    big = data[: structure.scan_start] + structure.scan[: -2] + body + b"\xff\xd9"
    strip = metadata.open_strip(big[:16], len(big), None, max_buffered=0)
    walk = strip._walk  # noqa: SLF001
    chunk, largest, written = 256 * 1024, 0, 0
    for offset in range(0, len(big), chunk):
        written += len(strip.feed(big[offset : offset + chunk]))
        largest = max(largest, len(walk._buf))  # noqa: SLF001
    written += len(strip.finish())
    assert largest <= chunk
    assert written > len(body)


def test_a_jpeg_feed_writes_its_scan_data_as_it_comes_but_a_last_ff():
    # A chunk ending on the FF of a stuffed FF 00: that FF may begin a marker, so it alone waits.
    data = b.jpeg(exif=False, comment=False, xmp=False, icc=False, size=(64, 64))
    sos = b.jpeg_structure(data).scan_start
    stuffed = data.index(b"\xff\x00", sos + 2 + struct.unpack(">H", data[sos + 2 : sos + 4])[0])
    walk = jpeg.JpegWalk(size=len(data), read_range=None, keep_copyright=False)
    assert walk.feed(data[: stuffed + 1]) == data[:stuffed]  # nothing to strip: the input as it came
    assert walk.feed(data[stuffed + 1 :]) + walk.finish() == data[stuffed:]


def test_the_jpeg_walk_holds_none_of_the_bytes_after_its_eoi():
    data = b.jpeg(exif=False, comment=False, xmp=False, icc=False)
    walk = jpeg.JpegWalk(size=len(data) + 4 * 65536, read_range=None, keep_copyright=False)
    assert walk.feed(data) == data
    for _ in range(4):
        assert walk.feed(b"trailer " * 8192) == b""
        assert len(walk._buf) == 0  # noqa: SLF001 - the walk's own buffer
    assert walk.finish() == b"" and walk.removed == frozenset({"trailer"})


def test_a_gain_map_is_found_with_bounded_ranged_reads_before_the_first_byte():
    data = g.ultra_hdr(primary_size=(640, 480))
    reads = []

    def read_range(start, end):
        reads.append((start, end))
        return data[start:end]

    strip = metadata.open_strip(data[:16], len(data), read_range, max_buffered=0)
    head = b.jpeg_structure(data).scan_start + 200
    first = strip.feed(data[:head])
    assert first and reads, "the ranged reads happen before the first byte is written"
    out = first + strip.feed(data[head:]) + strip.finish()
    assert out == metadata.clean(data).data and strip.kept == ("gain map",)
    assert max(end - start for start, end in reads) <= jpeg.SCOUT_PIECE
    assert sum(end - start for start, end in reads) <= 2 * len(data)


def test_the_primary_is_measured_in_consecutive_pieces_each_read_once(monkeypatch):
    monkeypatch.setattr(jpeg, "SCOUT_PIECE", 1000)
    data = g.ultra_hdr()
    primary_end = g.primary_end(data)
    reads = []

    def read_range(start, end):
        assert (start, end) not in reads, (start, end)
        reads.append((start, end))
        return data[start:end]

    strip = metadata.open_strip(data[:16], len(data), read_range, max_buffered=0)
    out = strip.feed(data) + strip.finish()
    assert out == metadata.clean(data).data and strip.kept == ("gain map",)
    pieces = [(start, min(start + 1000, len(data))) for start in range(0, primary_end, 1000)]
    assert reads == [*pieces, (primary_end, len(data))]  # the primary up to its EOI, then the gain map


def test_a_jpeg_shorter_than_declared_is_refused_when_its_primary_is_measured():
    data = g.ultra_hdr()
    cut = data[: g.primary_end(data) - 30]  # the ranged reads end inside the primary's scan data
    strip = metadata.open_strip(cut[:16], len(cut) + 10, lambda s, e: cut[s:e], max_buffered=0)
    reason = f"JPEG: the input ended at offset {len(cut)}, before its declared size {len(cut) + 10}"
    with pytest.raises(ImageError, match=f"^{re.escape(reason)}$"):
        strip.feed(cut)


def test_measuring_the_primary_before_a_gain_map_writes_none_of_its_scan_data():
    # The primary is walked once before the first byte to measure it; what that walk would
    # write is never wanted, so its 4 MB of scan data are buffered once, never copied out.
    gain_map = g.with_segments(g.plain_jpeg((32, 24), mode="L", seed=7), b.jpeg_segment(g.APP1, g.XMP_ID + g.ultra_hdr_gain_map_xmp()))
    primary = g.with_segments(g.plain_jpeg((64, 48)), b.jpeg_segment(g.APP1, g.XMP_ID + g.ultra_hdr_primary_xmp(len(gain_map))))
    scan_data = 4 * 1024 * 1024
    primary = primary[:-2] + b"\x00" * scan_data + b"\xff\xd9"
    data = g.with_mpf(primary, [(g.TYPE_UNDEFINED, gain_map)])
    view = memoryview(data)
    head = data[: b.jpeg_structure(data).scan_start + 200]
    strip = metadata.open_strip(data[:16], len(data), lambda s, e: view[s:e], max_buffered=0)
    first, peak = traced_peak(lambda: strip.feed(head))
    out = first + strip.feed(view[len(head) :]) + strip.finish()
    assert out == metadata.clean(data).data and strip.kept == ("gain map",)
    assert peak < scan_data * 3 // 2, peak  # the measuring walk's buffer, never a second copy


def test_a_primary_that_differs_from_the_one_measured_is_refused_not_served_wrong():
    """The object changed between the ranged reads and the stream: the index would be wrong."""
    data = g.ultra_hdr(primary_size=(640, 480))
    primary_end = g.primary_end(data)
    measured = bytearray(data)
    measured[primary_end - 12 : primary_end - 2] = b"\xff\xfe\x00\x08" + b"later!"  # a COM the scout drops
    strip = metadata.open_strip(data[:16], len(data), lambda s, e: bytes(measured[s:e]), max_buffered=0)
    with pytest.raises(ImageError, match="differs from the one measured"):
        strip.feed(data)
        strip.finish()


# ---------------------------------------------------------------- HEIF, AVIF and WebP natively


def _large_hevc_item(*, units: list[bytes] | None = None, size: int = 2 * MAX_HEIF_CHECKED_AHEAD) -> bytes:
    """A HEIC whose one image item is larger than the blocks checked before the first byte:
    a real tile's hvcC with `units` (default: one coded slice of `size` bytes)."""
    tile = ib.coded_tile(5)
    if units is None:
        units = [pb.nal(pb.IDR_W_RADL, b"\x00" * (size - 6))]
    payload = pb.length_prefixed(*units)
    return ib.heif_file([ib.Spec(1, b"hvc1", payload, tile.properties)], 1, [], brands=(b"heic", b"mif1", b"heic"))


def _large_av1_item(*obus: bytes) -> bytes:
    tile = hs.av1_image(1)
    payload = b"".join(obus)
    return ib.heif_file([ib.Spec(1, b"av01", payload, tile.properties)], 1, [], brands=(b"avif", b"mif1", b"avif", b"miaf"))


def _large_frame() -> bytes:
    return pb.obu(av1.FRAME, b"\x00" * (2 * MAX_HEIF_CHECKED_AHEAD))


def _hevc_with_sei() -> bytes:
    """A small HEIC whose item carries a prefix SEI (removed: the item's size changes)."""
    tile = ib.coded_tile(3)
    payload = pb.length_prefixed(pb.sei_user_data()) + tile.data
    return ib.heif_file([ib.Spec(1, b"hvc1", payload, tile.properties)], 1, [])


STREAMED_CORPUS = {
    "heic pillow": lambda: ib.encode_heic(b.pattern(), exif=b.exif_block(6), xmp=b.XMP_PACKET),
    "avif pillow": lambda: ib.encode_avif(b.pattern(), exif=b.exif_block(6), xmp=b.XMP_PACKET),
    **{f"heic {layout}": (lambda layout=layout: hs.everything(**hs.LAYOUTS[layout])) for layout in hs.LAYOUTS},  # noqa: SLF001
    "avif tone map": lambda: hs.avif_gain_map(grid=False),  # noqa: SLF001
    "avif tone map grid": lambda: hs.avif_gain_map(grid=True),  # noqa: SLF001
    "heic apple gain map": hs.apple_heic,  # noqa: SLF001
    "heic collection": lambda: hs.two_masters(None),  # noqa: SLF001
    "heic stereo pair": lambda: hs.two_masters(b"ster"),  # noqa: SLF001
    "heic cleaned item": _hevc_with_sei,
    "heic many mdat boxes": lambda: hs.many_mdats(tiles=16, mdats=2000),
    "webp lossy": b.webp,
    "webp lossless": lambda: b.webp(lossless=True),
    "webp animated": lambda: b.webp(animated=True),
    "webp animated rgba": lambda: b.webp(animated=True, mode="RGBA", lossless=True),
    "webp simple": b.webp_simple,
}
LARGE_CORPUS = {
    "heic large item": _large_hevc_item,
    "avif large item": lambda: _large_av1_item(pb.obu(av1.TEMPORAL_DELIMITER), pb.hdr_cll(), _large_frame()),
}


def _counting(data: bytes) -> tuple[list[tuple[int, int]], object]:
    reads: list[tuple[int, int]] = []
    view = memoryview(data)

    def read_range(start: int, end: int) -> bytes:
        reads.append((start, end))
        return bytes(view[start:end])

    return reads, read_range


def _fed(data: bytes, chunks, read_range=None, **options) -> bytes:
    if read_range is None:
        _, read_range = _counting(data)
    strip = metadata.open_strip(data[:16], len(data), read_range, max_buffered=0, **options)
    assert strip.native
    return b"".join(strip.feed(chunk) for chunk in chunks) + strip.finish()


@pytest.mark.parametrize("name", sorted(STREAMED_CORPUS))
@pytest.mark.parametrize("keep_copyright", [False, True])
def test_heif_and_webp_stream_natively_equal_to_the_buffered_strip(name, keep_copyright):
    data = STREAMED_CORPUS[name]()
    expected = metadata.clean(data, keep_copyright=keep_copyright)
    assert b.SECRET not in expected.data
    for cut in ("whole", "random", "bytes"):
        chunks = {"whole": [data], "random": _chunks_random(data, 16), "bytes": [data[i : i + 1] for i in range(len(data))]}[cut]
        assert _fed(data, chunks, keep_copyright=keep_copyright) == expected.data, f"{name}, fed {cut}"


@pytest.mark.parametrize("name", sorted(LARGE_CORPUS))
def test_a_large_item_passes_through_checked_as_it_streams(name):
    data = LARGE_CORPUS[name]()
    expected = metadata.clean(data)
    for seed in (1, 2):
        assert _fed(data, _chunks_random(data, seed)) == expected.data
    assert _fed(data, [data[i : i + 4096] for i in range(0, len(data), 4096)]) == expected.data


@pytest.mark.parametrize("name", ["heic iloc-v1-idat", "heic meta-after-mdat", "heic apple gain map", "webp animated", "webp lossy"])
def test_ranged_reads_before_the_first_byte_are_few_and_small(name):
    data = STREAMED_CORPUS[name]()
    reads, read_range = _counting(data)
    metadata.open_strip(data[:16], len(data), read_range, max_buffered=0)
    assert 1 <= len(reads) <= 6, reads
    assert sum(end - start for start, end in reads) <= len(data) + 64 * 1024  # one header window at most beyond


def _tiles_apart(*gaps: int) -> tuple[bytes, list[tuple[int, int]]]:
    """A collection of HEVC images (one more than `gaps`) whose data lie the given numbers of
    bytes apart in mdat: the file, and where each one's data starts and ends."""
    tiles = [ib.coded_tile(3 + n).data for n in range(len(gaps) + 1)]
    properties = ib.coded_tile(3).properties
    associations = [(i + 1, essential) for i, (_, essential) in enumerate(properties)]
    head = hs.ftyp(b"heic", b"mif1", b"heic")
    offsets = [sum(len(tile) + gap for tile, gap in zip(tiles[:n], gaps)) for n in range(len(tiles))]

    def meta(at: int) -> bytes:
        items = [hs.RawItem(n + 1, b"hvc1", [(at + offsets[n], len(tile))], associations) for n, tile in enumerate(tiles)]
        return hs.raw_meta(items, 1, [raw for raw, _ in properties], [])

    at = len(head) + len(meta(0)) + 8
    mdat = b"".join(tile + bytes(gap) for tile, gap in zip(tiles, [*gaps, 0]))
    return head + meta(at) + ib.box(b"mdat", mdat), [(at + offset, at + offset + len(tile)) for offset, tile in zip(offsets, tiles)]


@pytest.mark.parametrize(("gap_limit", "span_limit", "shared"), [(10, None, True), (9, None, False), (None, 0, True), (None, -1, False)])
def test_kept_data_close_enough_shares_one_read_ahead_and_farther_takes_two(monkeypatch, gap_limit, span_limit, shared):
    # READ_AHEAD_GAP (64 KB) and READ_AHEAD_SPAN (8 MB) patched to this file's gap of 10 bytes
    # and the 10 bytes' span of both pieces (plus span_limit), at the module that reads them.
    from metadata.formats.heif import payloads

    data, [(at, first_end), (second_at, end)] = _tiles_apart(10)
    if gap_limit is not None:
        monkeypatch.setattr(payloads, "READ_AHEAD_GAP", gap_limit)
    if span_limit is not None:
        monkeypatch.setattr(payloads, "READ_AHEAD_SPAN", end - at + span_limit)
    reads, read_range = _counting(data)
    metadata.open_strip(data[:16], len(data), read_range, max_buffered=0)
    assert reads[0] == (0, len(data))  # the header window: the whole small file
    if shared:
        assert reads[1:] == [(at, end)]
    else:
        assert reads[1:] == [(at, first_end), (second_at, end)]


@pytest.mark.parametrize(
    ("gaps", "limit", "runs"),
    [((10, 20), "gap", [[0, 1], [2]]), ((20, 10), "gap", [[0], [1, 2]]), ((20, 20), "gap", [[0], [1], [2]]), ((10, 10), "span", [[0, 1], [2]])],
)
def test_read_ahead_runs_take_each_next_piece_while_it_is_close_to_the_last_and_within_the_span(monkeypatch, gaps, limit, runs):
    # READ_AHEAD_GAP patched to 15 bytes (between this file's gaps of 10 and 20), or
    # READ_AHEAD_SPAN to the span of the first two pieces (the third one would exceed it).
    from metadata.formats.heif import payloads

    data, pieces = _tiles_apart(*gaps)
    if limit == "gap":
        monkeypatch.setattr(payloads, "READ_AHEAD_GAP", 15)
    else:
        monkeypatch.setattr(payloads, "READ_AHEAD_SPAN", pieces[1][1] - pieces[0][0])
    reads, read_range = _counting(data)
    metadata.open_strip(data[:16], len(data), read_range, max_buffered=0)
    assert reads[1:] == [(pieces[run[0]][0], pieces[run[-1]][1]) for run in runs]


def test_the_read_ahead_budget_counts_every_block_already_chosen(monkeypatch):
    # MAX_HEIF_READ_AHEAD (16 MB) patched to the first two items' sizes: the third, smaller
    # than the first, would fit beside either one alone, and is streamed, not read ahead.
    from metadata.formats.heif import payloads

    data, pieces = _tiles_apart(10, 10)
    sizes = [end - start for start, end in pieces]
    assert sizes[2] <= sizes[0]
    monkeypatch.setattr(payloads, "MAX_HEIF_READ_AHEAD", sizes[0] + sizes[1])
    reads, read_range = _counting(data)
    strip = metadata.open_strip(data[:16], len(data), read_range, max_buffered=0)
    assert reads[1:] == [(pieces[0][0], pieces[1][1])]
    out = b"".join(strip.feed(data[i : i + 100]) for i in range(0, len(data), 100)) + strip.finish()
    assert out == metadata.clean(data).data
    assert [ib.read_heif(out).items[n + 1].data for n in range(3)] == [data[start:end] for start, end in pieces]


def test_a_large_heic_streams_through_a_counting_reader_without_being_held():
    """A 24 MB grid of 48 tiles of 512 KB: planned from a few small reads, then read once,
    each chunk's kept bytes written as it arrives; the walk's memory stays far below the image."""
    tile = ib.coded_tile(5)
    hvcc = next(raw for raw, _ in tile.properties if raw[4:8] == b"hvcC")
    specs = [ib.Spec(1, b"grid", ib.grid_descriptor(6, 8, 512, 384), [(ib.ispe(512, 384), False)], method=1)]
    for n in range(48):
        body = random.Random(n).randbytes(512 * 1024)
        specs.append(ib.Spec(2 + n, b"hvc1", pb.length_prefixed(pb.nal(pb.IDR_W_RADL, body)), [(hvcc, True), (ib.ispe(64, 64), False)], hidden=True))
    data = ib.heif_file(specs, 1, [(b"dimg", 1, [n for n in range(2, 50)])])
    expected = hashlib.sha256(metadata.clean(data).data).hexdigest()
    reads, read_range = _counting(data)
    chunk = 256 * 1024
    tracemalloc.start()
    try:
        strip = metadata.open_strip(data[:16], len(data), read_range, max_buffered=0)
        planned = list(reads)
        out = hashlib.sha256()
        largest = 0
        for offset in range(0, len(data), chunk):
            piece = strip.feed(data[offset : offset + chunk])
            largest = max(largest, len(piece))
            out.update(piece)
        out.update(strip.finish())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert out.hexdigest() == expected
    assert len(planned) == 1 and sum(end - start for start, end in planned) <= 64 * 1024, planned  # the header window
    assert reads == planned  # nothing read but the stream once the first byte is out
    assert largest <= chunk + 64 * 1024  # a chunk's bytes (the first one after the head)
    assert peak < 8 * chunk, peak  # a few chunks (about 0.9 MB measured), never the 24 MB image


def test_reading_a_large_jpegs_exif_holds_none_of_its_scan():
    # ?showExif=true reads the EXIF block: the walk checks the whole file's structure, and
    # what it would serve is never written, so its scan data is not copied.
    original = b.jpeg(6)
    assert original.endswith(b"\xff\xd9")
    data = original[:-2] + b"\x00" * (4 * 1024 * 1024) + b"\xff\xd9"
    exif, peak = traced_peak(lambda: jpeg.find_exif(data))
    assert bytes(exif).startswith((b"Exif\x00\x00MM\x00*", b"Exif\x00\x00II*\x00"))
    assert peak < 2 * jpeg.READ_PIECE, peak  # about one piece (1 MB), never the 4 MB scan


def test_a_large_item_that_would_be_cleaned_is_refused_buffered_and_cut_streamed():
    data = _large_hevc_item(units=[pb.nal(pb.IDR_W_RADL, b"\x00" * (2 * MAX_HEIF_CHECKED_AHEAD)), pb.sei_user_data()])
    sei_at = 4 + 2 + 2 * MAX_HEIF_CHECKED_AHEAD  # after the slice's length field, header and body
    with pytest.raises(ImageError, match=f"^HEVC: item 1 holds a NAL unit of type 39 at offset {sei_at}, which the strip removes"):
        metadata.clean(data)
    strip = metadata.open_strip(data[:16], len(data), _counting(data)[1], max_buffered=0)
    first = strip.feed(data[:4096])
    assert first[4:8] == b"ftyp" and b"meta" in first  # the head is out: a failure now can only cut
    with pytest.raises(ImageError, match="which the strip removes"):
        for offset in range(4096, len(data), 4096):
            strip.feed(data[offset : offset + 4096])
        strip.finish()
    t35 = _large_av1_item(_large_frame(), pb.t35_metadata())
    with pytest.raises(ImageError, match=f"^AV1: item 1 holds a metadata OBU at offset {len(_large_frame())}, which the strip removes"):
        metadata.clean(t35)



# ----------------------------------------- blocks too large to check before the first byte, by type

_AHEAD = 64  # MAX_HEIF_CHECKED_AHEAD, patched: the items below are larger, so they are streamed


def _large_block_item(monkeypatch, item_type: bytes, payload: bytes, properties: list[tuple[bytes, bool]], *, inputs: int = 0) -> bytes:
    """A HEIF file whose item 1 of `item_type` holds `payload` (over _AHEAD bytes), with `inputs`
    hidden HEVC tiles as its 'dimg' inputs."""
    from metadata.formats.heif import payloads

    monkeypatch.setattr(payloads, "MAX_HEIF_CHECKED_AHEAD", _AHEAD)
    assert len(payload) > _AHEAD
    tile = ib.coded_tile(5)
    specs = [ib.Spec(1, item_type, payload, properties)]
    specs += [ib.Spec(2 + n, b"hvc1", tile.data, tile.properties, hidden=True) for n in range(inputs)]
    references = [(b"dimg", 1, [2 + n for n in range(inputs)])] if inputs else []
    return ib.heif_file(specs, 1, references)


def _meta_start(data: bytes) -> int:
    return _top_level(data)[b"meta"][0]


_RGB3 = [(ib.ispe(8, 4), False), (ib.property_box(b"uncC", b"rgb3", version=0x01), True)]
_MASK8 = [(ib.ispe(12, 8), False), (ib.property_box(b"mskC", b"\x08", version=0), True)]


@pytest.mark.parametrize(
    ("item_type", "properties", "size", "shown"),
    [(b"unci", _RGB3, 8 * 4 * 3, "uncompressed ('unci')"), (b"mski", _MASK8, 12 * 8, "mask ('mski')")],
)
def test_a_large_raw_sample_item_is_checked_by_its_size_alone(monkeypatch, item_type, properties, size, shown):
    samples = bytes(range(256))[:size]
    data = _large_block_item(monkeypatch, item_type, samples, properties)
    assert samples in _fed(data, [data[i : i + 7] for i in range(0, len(data), 7)])
    assert samples in metadata.clean(data).data
    longer = _large_block_item(monkeypatch, item_type, samples + b"\x00", properties)
    with pytest.raises(ImageError, match=rf"^HEIF: {re.escape(shown)} item holds {size + 1} bytes, its properties give {size}$"):
        metadata.clean(longer)
    with_input = _large_block_item(monkeypatch, item_type, samples, properties, inputs=1)
    with pytest.raises(ImageError, match=rf"^HEIF: coded item of type '{item_type.decode()}' has 1 'dimg' inputs$"):
        metadata.clean(with_input)


def test_a_large_item_of_a_type_without_a_streamed_check_is_refused(monkeypatch):
    data = _large_block_item(monkeypatch, b"jpeg", b.jpeg()[:200], [(ib.ispe(64, 64), False)])
    reason = f"HEIF: item 1 ('jpeg') holds 200 bytes, more than the {_AHEAD} checked before the first byte at offset {_meta_start(data)}"
    with pytest.raises(ImageError, match=f"^{re.escape(reason)}$"):
        metadata.clean(data)


def test_a_large_coded_item_with_dimg_inputs_or_without_hvcc_is_refused(monkeypatch):
    tile = ib.coded_tile(5)
    with_input = _large_block_item(monkeypatch, b"hvc1", tile.data, tile.properties, inputs=1)
    with pytest.raises(ImageError, match=r"^HEIF: coded item of type 'hvc1' has 1 'dimg' inputs$"):
        metadata.clean(with_input)
    without_hvcc = _large_block_item(monkeypatch, b"hvc1", tile.data, [p for p in tile.properties if p[0][4:8] != b"hvcC"])
    with pytest.raises(ImageError, match=r"^HEIF: HEVC \('hvc1'\) item has no 'hvcC' property$"):
        metadata.clean(without_hvcc)


def test_items_sharing_data_too_large_to_read_ahead_stream_it_once_after_the_blocks_before_it(monkeypatch):
    # items 1 and 2 hold blocks too large to read ahead (MAX_HEIF_CHECKED_AHEAD patched to
    # _AHEAD), streamed in that order; item 3 shares item 2's extents
    from metadata.formats.heif import payloads

    monkeypatch.setattr(payloads, "MAX_HEIF_CHECKED_AHEAD", _AHEAD)
    first, second = ib.coded_tile(4), ib.coded_tile(5)
    specs = [ib.Spec(1, b"hvc1", first.data, first.properties), ib.Spec(2, b"hvc1", second.data, second.properties)]
    specs.append(ib.Spec(3, b"hvc1", properties=second.properties, share=2))
    data = ib.heif_file(specs, 1, [])
    out = _fed(data, [data[i : i + 7] for i in range(0, len(data), 7)])
    items = ib.read_heif(out).items
    assert [items[n].data for n in (1, 2, 3)] == [first.data, second.data, second.data]
    assert (out.count(first.data), out.count(second.data)) == (1, 1)
    assert out == metadata.clean(data).data


def _hevc_in_extents(monkeypatch, order: list[int], *, gap: bool, large: bool = True) -> tuple[bytes, bytes]:
    """A HEIC whose one hvc1 item (large: over _AHEAD) lists its three pieces in item order,
    placed in mdat in `order` (with junk between them when `gap`); and the item's payload."""
    from metadata.formats.heif import payloads

    if large:
        monkeypatch.setattr(payloads, "MAX_HEIF_CHECKED_AHEAD", _AHEAD)
    tile = ib.coded_tile(5)
    hvcc = next(raw for raw, _ in tile.properties if raw[4:8] == b"hvcC")
    payload = pb.length_prefixed(pb.nal(pb.IDR_W_RADL, bytes(range(90))))  # 96 bytes
    pieces = [payload[:30], payload[30:60], payload[60:]]
    junk = b"junk" if gap else b""
    placed: dict[int, int] = {}
    mdat = b""
    for index in order:
        placed[index] = len(mdat)
        mdat += pieces[index] + junk
    head = hs.ftyp(b"heic", b"mif1", b"heic")

    def meta(at: int) -> bytes:
        extents = [(at + placed[index], len(pieces[index])) for index in range(3)]
        return hs.raw_meta([hs.RawItem(1, b"hvc1", extents, [(1, True), (2, False)])], 1, [hvcc, ib.ispe(64, 64)], [])

    size = len(meta(0))
    return head + meta(len(head) + size + 8) + ib.box(b"mdat", mdat), payload


@pytest.mark.parametrize("gap", [False, True])
def test_a_large_item_in_extents_in_file_order_streams_adjacent_or_apart(monkeypatch, gap):
    data, payload = _hevc_in_extents(monkeypatch, [0, 1, 2], gap=gap)
    out = metadata.clean(data).data
    assert payload in out if not gap else all(payload[a:z] in out for a, z in ((0, 30), (30, 60), (60, 96)))
    assert _fed(data, [data[i : i + 5] for i in range(0, len(data), 5)]) == out


@pytest.mark.parametrize("order", [[1, 0, 2], [0, 2, 1], [2, 1, 0]])
def test_a_small_item_listing_its_extents_out_of_file_order_passes_through_checked(monkeypatch, order):
    # read ahead and checked in item order, then digested as it streams, in file order
    data, payload = _hevc_in_extents(monkeypatch, order, gap=True, large=False)
    out = metadata.clean(data).data
    assert ib.read_heif(out).items[1].data == payload
    assert _fed(data, [data[i : i + 5] for i in range(0, len(data), 5)]) == out


@pytest.mark.parametrize("order", [[1, 0, 2], [0, 2, 1], [2, 1, 0]])
def test_a_large_item_listing_its_extents_out_of_file_order_is_refused(monkeypatch, order):
    data, _ = _hevc_in_extents(monkeypatch, order, gap=True)
    reason = f"HEIF: item 1 lists its 96 bytes out of file order (more than the {_AHEAD} checked before the first byte) at offset {_meta_start(data)}"
    with pytest.raises(ImageError, match=f"^{re.escape(reason)}$"):
        metadata.clean(data)


def test_bytes_changed_between_the_reads_and_the_stream_are_never_served():
    data = hs.everything()  # noqa: SLF001
    tile = ib.coded_tile(2).data
    at = data.index(tile) + len(tile) // 2
    changed = data[:at] + bytes((data[at] ^ 1,)) + data[at + 1 :]
    assert ib.read_heif(data).items[3].data == tile  # the first item holding that tile, which the refusal names
    reason = "HEIF: the data of item 3 differs from the data checked before the first byte (changed while read?)"
    with pytest.raises(ImageError, match=f"^{re.escape(reason)}$"):
        _fed(changed, [changed], read_range=_counting(data)[1])  # planned from `data`, streamed `changed`
    meta_at = data.index(b"iloc")
    changed = data[:meta_at] + b"iloC" + data[meta_at + 4 :]
    with pytest.raises(ImageError, match="changed while read"):
        _fed(changed, [changed], read_range=_counting(data)[1])
    webp = b.webp()
    at = webp.index(b"VP8 ") + 20
    changed = webp[:at] + bytes((webp[at] ^ 1,)) + webp[at + 1 :]
    with pytest.raises(ImageError, match="changed while read"):
        _fed(changed, [changed], read_range=_counting(webp)[1])


def test_an_input_shorter_or_longer_than_declared_fails():
    data = hs.everything()  # noqa: SLF001
    strip = metadata.open_strip(data[:16], len(data), _counting(data)[1], max_buffered=0)
    strip.feed(data[:-10])
    with pytest.raises(ImageError, match="before its declared size"):
        strip.finish()
    strip = metadata.open_strip(data[:16], len(data), _counting(data)[1], max_buffered=0)
    with pytest.raises(ImageError, match="longer than its declared"):
        strip.feed(data + b"\x00")


HEVC_PAYLOADS = {
    "real": lambda: pb.real_item(b"hvc1").payload,
    "with sei": lambda: pb.length_prefixed(pb.sei_user_data(), pb.nal(pb.IDR_W_RADL, b"\x01" * 40)),
    "no slice": lambda: pb.length_prefixed(pb.nal(pb.VPS, b"\x01" * 4)),
    "length past the end": lambda: struct.pack(">I", 100) + pb.nal(pb.IDR_W_RADL, b"\x01" * 10),
    "cut in a length": lambda: pb.length_prefixed(pb.nal(pb.IDR_W_RADL, b"\x01" * 10)) + b"\x00\x00",
    "forbidden bit": lambda: pb.length_prefixed(b"\x80\x01" + b"\x01" * 10),
    "one-byte unit": lambda: pb.length_prefixed(b"\x26") + pb.length_prefixed(pb.nal(pb.IDR_W_RADL, b"\x01")),
}
AV1_PAYLOADS = {
    "real": lambda: pb.real_item(b"av01").payload,
    "hdr metadata": lambda: pb.hdr_cll() + pb.hdr_mdcv() + pb.obu(av1.FRAME, b"\x01" * 30),
    "t35 metadata": lambda: pb.t35_metadata() + pb.obu(av1.FRAME, b"\x01" * 30),
    "padding": lambda: pb.obu(av1.FRAME, b"\x01" * 30) + pb.obu(15, b"\x00" * 5),
    "unsized last": lambda: pb.obu(av1.TEMPORAL_DELIMITER) + pb.obu(av1.FRAME, b"\x01" * 30, sized=False),
    "extension": lambda: pb.obu(av1.FRAME, b"\x01" * 30, extension=0x08),
    "tile list": lambda: pb.obu(av1.TILE_LIST, b"\x01") + pb.obu(av1.FRAME, b"\x01" * 3),
    "size past the end": lambda: pb.obu(av1.FRAME, b"\x01" * 30)[:-3],
    "cut in a header": lambda: pb.obu(av1.FRAME, b"\x01" * 30) + b"\x32",
    "no frame": lambda: pb.obu(av1.SEQUENCE_HEADER, b"\x01" * 3),
    "long leb128": lambda: b"\x32" + b"\x80" * 8 + b"\x00",
}


def _streamed_check(make, payload: bytes, pieces: list[bytes]) -> str:
    try:
        check = make(payload)
        for piece in pieces:
            check.update(memoryview(piece))
        check.done()
    except ImageError:
        return "refused"
    return "passed"


@pytest.mark.parametrize(
    ("kind", "name"), [("hevc", name) for name in HEVC_PAYLOADS] + [("av1", name) for name in AV1_PAYLOADS]
)
def test_the_streamed_unit_checks_pass_exactly_what_the_whole_checks_serve_unchanged(kind, name):
    payload = (HEVC_PAYLOADS if kind == "hevc" else AV1_PAYLOADS)[name]()
    if kind == "hevc":
        whole, make = (lambda: hevc.check_hvc1(payload, 4)), (lambda p: NalUnits(1, len(p), 4))
    else:
        whole, make = (lambda: av1.check_obus(payload)), (lambda p: Obus(1, len(p)))
    try:
        expected = "passed" if whole() == payload else "refused"
    except ImageError:
        expected = "refused"
    for pieces in ([payload], [payload[i : i + 1] for i in range(len(payload))], _chunks_random(payload, 7)):
        assert _streamed_check(make, payload, pieces) == expected, name


# ------------------------------------- the streamed unit checks: their offsets, bounds and reasons

_VPS_UNIT = pb.length_prefixed(pb.nal(pb.VPS, b"\x01" * 4))  # 10 bytes: offsets 0-9
_SLICE_UNIT = pb.length_prefixed(pb.nal(pb.IDR_W_RADL, b"\x01" * 10))  # 16 bytes
_TD = pb.obu(av1.TEMPORAL_DELIMITER)  # 2 bytes: 0x12, size 0
_SMALL_FRAME = pb.obu(av1.FRAME, b"\x01" * 3)  # 5 bytes
_REMOVED = ", which the strip removes, in {} bytes (more than are checked before the first byte, so its size cannot change)"


def _streamed_refusal(check, pieces: list[bytes]) -> str | None:
    try:
        for piece in pieces:
            check.update(memoryview(piece))
        check.done()
    except ImageError as refusal:
        return str(refusal)
    return None


def _every_feed(payload: bytes) -> list[list[bytes]]:
    """The payload whole, byte by byte, and cut in two at every offset."""
    return [[payload], [payload[i : i + 1] for i in range(len(payload))]] + [[payload[:at], payload[at:]] for at in range(1, len(payload))]


STREAMED_KEPT = {
    "hevc: a parameter set, a slice, a parameter set last": (
        "hevc", _VPS_UNIT + _SLICE_UNIT + pb.length_prefixed(pb.nal(pb.PPS, b"\x01" * 2))
    ),
    "av1: hdr metadata, an extended frame, a frame, an unsized empty delimiter last": (
        "av1", _TD + pb.hdr_cll() + pb.hdr_mdcv() + pb.obu(av1.FRAME, b"\x01" * 30, extension=0x08) + _SMALL_FRAME + pb.obu(av1.TEMPORAL_DELIMITER, sized=False)
    ),
}


@pytest.mark.parametrize("name", sorted(STREAMED_KEPT))
def test_a_streamed_unit_check_passes_a_kept_payload_however_it_is_cut(name):
    kind, payload = STREAMED_KEPT[name]
    if kind == "hevc":
        assert hevc.check_hvc1(payload, 4) == payload  # the whole check keeps it unchanged
        make = lambda: NalUnits(7, len(payload), 4)  # noqa: E731
    else:
        assert av1.check_obus(payload) == payload
        make = lambda: Obus(7, len(payload))  # noqa: E731
    for pieces in _every_feed(payload):
        assert _streamed_refusal(make(), pieces) is None, [len(piece) for piece in pieces]


def _removed(fmt: str, what: str, offset: int, payload: bytes) -> str:
    return f"{fmt}: item 7 holds {what} at offset {offset}" + _REMOVED.format(len(payload))


STREAMED_REFUSED_HEVC = {
    "a unit one byte past the end": (_VPS_UNIT + struct.pack(">I", 13) + pb.nal(pb.IDR_W_RADL, b"\x01" * 10), "HEVC: NAL unit of 13 bytes at offset 10 runs past the item's 26 bytes"),
    "a forbidden bit": (_VPS_UNIT + pb.length_prefixed(b"\x80\x01" + b"\x01" * 4), "HEVC: hvc1 item has a NAL unit with its forbidden_zero_bit set at offset 10"),
    "a prefix sei": (_VPS_UNIT + pb.length_prefixed(pb.sei_user_data()) + _SLICE_UNIT, None),
    "a cut length": (_VPS_UNIT + _SLICE_UNIT + b"\x00\x00", "HEVC: hvc1 item ends inside a NAL unit length at offset 26"),
    "no slice": (_VPS_UNIT, "HEVC: hvc1 item of 10 bytes holds no coded slice"),
}
STREAMED_REFUSED_AV1 = {
    "an obu three bytes past the end": (_TD + pb.obu(av1.FRAME, b"\x01" * 30)[:-3], "AV1: OBU of 30 bytes at offset 2 runs past the 31-byte payload"),
    "a forbidden bit": (_TD + b"\x80\x00" + _SMALL_FRAME, "AV1: OBU at offset 2 has its forbidden bit set"),
    "a tile list": (_TD + pb.obu(av1.TILE_LIST, b"\x01") + _SMALL_FRAME, "AV1: tile list OBU at offset 2"),
    "a delimiter with a payload": (_SMALL_FRAME + pb.obu(av1.TEMPORAL_DELIMITER, b"\x01"), "AV1: temporal delimiter OBU of 1 bytes at offset 5 (it has none)"),
    "padding": (_TD + pb.obu(pb.PADDING, b"\x00" * 5) + _SMALL_FRAME, ("an OBU of type 15", 2)),
    "t35 metadata": (_TD + pb.t35_metadata() + _SMALL_FRAME, ("a metadata OBU", 2)),
    "an empty metadata obu": (_TD + pb.obu(av1.METADATA) + _SMALL_FRAME, ("a metadata OBU", 2)),
    "an hdr metadata obu of 33 bytes, over the 32 read": (_TD + pb.obu(av1.METADATA, b"\x01" + b"\x00" * 31 + b"\x80") + _SMALL_FRAME, ("a metadata OBU", 2)),
    "an hdr metadata obu of 32 bytes, read and checked": (
        _TD + pb.obu(av1.METADATA, b"\x01" + b"\x00" * 30 + b"\x80") + _SMALL_FRAME,
        "AV1: HDR metadata OBU (type 1) at offset 2 is not 4 bytes of fields and trailing bits",
    ),
    "a cut header": (_SMALL_FRAME + b"\x32", "AV1: OBU at offset 5 ends inside its header"),
    "no frame": (pb.obu(av1.SEQUENCE_HEADER, b"\x01" * 3), "AV1: av01 item of 5 bytes holds no frame or tile group"),
    "a leb128 of nine bytes": (b"\x32" + b"\x80" * 8 + b"\x00", "AV1: leb128 size at offset 1 is longer than 8 bytes"),
}


@pytest.mark.parametrize(
    ("kind", "name"), [("hevc", name) for name in STREAMED_REFUSED_HEVC] + [("av1", name) for name in STREAMED_REFUSED_AV1]
)
def test_a_streamed_unit_check_refuses_at_the_unit_s_offset_however_the_payload_is_cut(kind, name):
    payload, reason = (STREAMED_REFUSED_HEVC if kind == "hevc" else STREAMED_REFUSED_AV1)[name]
    if kind == "hevc":
        reason = reason or _removed("HEVC", "a NAL unit of type 39", 10, payload)
        make = lambda: NalUnits(7, len(payload), 4)  # noqa: E731
    else:
        reason = _removed("AV1", *reason, payload) if isinstance(reason, tuple) else reason
        make = lambda: Obus(7, len(payload))  # noqa: E731
    for pieces in _every_feed(payload):
        assert _streamed_refusal(make(), pieces) == reason, [len(piece) for piece in pieces]


def test_a_streamed_hevc_check_refuses_a_length_field_size_hvcc_cannot_give():
    with pytest.raises(ImageError, match=r"^HEVC: NAL unit length size 3$"):
        NalUnits(7, 100, 3)


@pytest.mark.parametrize("extra", [0, 1])
def test_a_streamed_unit_check_passes_max_coded_units_and_refuses_one_more(extra):
    units = MAX_CODED_UNITS + extra
    hevc_payload = pb.length_prefixed(*[pb.nal(pb.IDR_W_RADL)] * units)
    av1_payload = _TD * (units - 1) + pb.obu(av1.FRAME)
    hevc_reason = _streamed_refusal(NalUnits(7, len(hevc_payload), 4), [hevc_payload])
    av1_reason = _streamed_refusal(Obus(7, len(av1_payload)), [av1_payload])
    if extra:
        assert hevc_reason == f"HEVC: hvc1 item has more than {MAX_CODED_UNITS} NAL units"
        assert av1_reason == f"AV1: more than {MAX_CODED_UNITS} OBUs"
    else:
        assert (hevc_reason, av1_reason) == (None, None)


@pytest.mark.parametrize("name", ["heic iloc-v1-idat", "heic meta-after-mdat", "webp animated"])
def test_a_ranged_read_that_comes_back_short_is_refused(name):
    data = STREAMED_CORPUS[name]()
    with pytest.raises(ImageError, match=r"a read of \d+ bytes .*gave"):
        metadata.open_strip(data[:16], len(data), lambda start, end: data[start : end - 1], max_buffered=0)


def test_the_reads_before_the_first_byte_are_capped(monkeypatch):
    from metadata.formats import webp
    from metadata.formats.heif import tables

    heic = ib.encode_heic(b.pattern())
    spaced = heic + ib.box(b"free", bytes(70_000)) * 3  # each box header in a window of its own
    monkeypatch.setattr(tables, "MAX_HEIF_HEADER_READS", 2)
    with pytest.raises(ImageError, match="more than 2 reads to find the top-level boxes"):
        metadata.clean(spaced)
    monkeypatch.setattr(tables, "MAX_HEIF_META_BYTES", 100)
    with pytest.raises(ImageError, match="'meta' box of \\d+ bytes, over the limit of 100"):
        metadata.clean(heic)
    lossy = b.webp()
    first = 12 + 8 + int.from_bytes(lossy[16:20], "little")  # after VP8X
    junk = b"JUNK" + (70_000).to_bytes(4, "little") + bytes(70_000)
    body = lossy[12:first] + junk + lossy[first:]
    spaced_webp = b"RIFF" + (len(body) + 4).to_bytes(4, "little") + b"WEBP" + body
    assert b.SECRET not in metadata.clean(spaced_webp).data
    monkeypatch.setattr(webp, "MAX_WEBP_HEADER_READS", 1)
    with pytest.raises(ImageError, match="more than 1 reads to find its structure"):
        metadata.clean(spaced_webp)



def _top_level(data: bytes) -> dict[bytes, tuple[int, int]]:
    """The first (start, end) of each top-level box type (32-bit sizes, as the builders write)."""
    boxes, at = {}, 0
    while at + 8 <= len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        boxes.setdefault(data[at + 4 : at + 8], (at, at + size))
        at += size
    return boxes


def _riff_chunks(data: bytes) -> list[tuple[bytes, int]]:
    """(name, payload size) of each top-level RIFF chunk, in order."""
    chunks, at = [], 12
    while at + 8 <= len(data):
        size = int.from_bytes(data[at + 4 : at + 8], "little")
        chunks.append((data[at : at + 4], size))
        at += 8 + size + size % 2
    return chunks


def _spaced_heic() -> bytes:
    """A small HEIC, then three 70,000-byte free boxes: one 64 KB header window holds the
    image and the first free box's header, each later free box header needs a read of its own."""
    heic = ib.encode_heic(b.pattern())
    assert len(heic) + 8 < 64 * 1024
    return heic + ib.box(b"free", bytes(70_000)) * 3


def test_the_header_reads_needed_are_allowed_and_one_fewer_refused(monkeypatch):
    # MAX_HEIF_HEADER_READS (256) patched to the 3 reads this file needs, at the module that reads it.
    from metadata.formats.heif import tables

    spaced = _spaced_heic()
    monkeypatch.setattr(tables, "MAX_HEIF_HEADER_READS", 3)
    assert b.SECRET not in metadata.clean(spaced).data
    monkeypatch.setattr(tables, "MAX_HEIF_HEADER_READS", 2)
    third = len(spaced) - 70_008  # the last free box's header: the read that would be the third
    with pytest.raises(ImageError, match=f"^HEIF: more than 2 reads to find the top-level boxes at offset {third}$"):
        metadata.clean(spaced)


def test_a_meta_box_of_max_heif_meta_bytes_is_read_and_one_byte_larger_refused(monkeypatch):
    # MAX_HEIF_META_BYTES (32 MB) patched to this file's meta box size, at the module that reads it.
    from metadata.formats.heif import tables

    heic = ib.encode_heic(b.pattern(), exif=b.exif_block(6))
    start, end = _top_level(heic)[b"meta"]
    monkeypatch.setattr(tables, "MAX_HEIF_META_BYTES", end - start)
    assert b.SECRET not in metadata.clean(heic).data
    monkeypatch.setattr(tables, "MAX_HEIF_META_BYTES", end - start - 1)
    with pytest.raises(ImageError, match=f"^HEIF: 'meta' box of {end - start} bytes, over the limit of {end - start - 1} at offset {start}$"):
        metadata.clean(heic)


def _heic_with_sei(size: int) -> bytes:
    """A HEIC whose one item of `size` bytes holds a coded slice and a prefix SEI: cleaned (the
    SEI removed, the item smaller) only when it is read and checked before the first byte."""
    sei = pb.length_prefixed(pb.sei_user_data())
    payload = pb.length_prefixed(pb.nal(pb.IDR_W_RADL, b"\x00" * (size - len(sei) - 6))) + sei
    assert len(payload) == size
    tile = ib.coded_tile(5)
    return ib.heif_file([ib.Spec(1, b"hvc1", payload, tile.properties)], 1, [], brands=(b"heic", b"mif1", b"heic"))


def test_an_item_of_max_heif_checked_ahead_bytes_is_cleaned_and_one_byte_larger_only_streamed():
    at = metadata.clean(_heic_with_sei(MAX_HEIF_CHECKED_AHEAD))
    assert pb.sei_user_data() not in at.data and len(at.data) < MAX_HEIF_CHECKED_AHEAD + 4096
    with pytest.raises(ImageError, match="NAL unit of type 39 .* which the strip removes"):
        metadata.clean(_heic_with_sei(MAX_HEIF_CHECKED_AHEAD + 1))


def test_items_within_max_heif_read_ahead_are_cleaned_and_one_byte_over_only_streamed(monkeypatch):
    # MAX_HEIF_READ_AHEAD (16 MB) patched to this item's size, at the module that reads it.
    from metadata.formats.heif import payloads

    data = _heic_with_sei(4096)
    monkeypatch.setattr(payloads, "MAX_HEIF_READ_AHEAD", 4096)
    assert pb.sei_user_data() not in metadata.clean(data).data
    monkeypatch.setattr(payloads, "MAX_HEIF_READ_AHEAD", 4095)
    with pytest.raises(ImageError, match="NAL unit of type 39 .* which the strip removes"):
        metadata.clean(data)


def _spaced_webp() -> bytes:
    """A WebP with a 70,000-byte JUNK chunk after its VP8X: the chunk after it needs a second read."""
    lossy = b.webp()
    first = 12 + 8 + int.from_bytes(lossy[16:20], "little")  # after VP8X
    junk = b"JUNK" + (70_000).to_bytes(4, "little") + bytes(70_000)
    body = lossy[12:first] + junk + lossy[first:]
    return b"RIFF" + (len(body) + 4).to_bytes(4, "little") + b"WEBP" + body


def test_the_webp_header_reads_needed_are_allowed_and_one_fewer_refused(monkeypatch):
    # MAX_WEBP_HEADER_READS (4096) patched to the 2 reads this file needs, at the module that reads it.
    from metadata.formats import webp

    spaced = _spaced_webp()
    monkeypatch.setattr(webp, "MAX_WEBP_HEADER_READS", 2)
    assert b.SECRET not in metadata.clean(spaced).data
    monkeypatch.setattr(webp, "MAX_WEBP_HEADER_READS", 1)
    with pytest.raises(ImageError, match="more than 1 reads to find its structure"):
        metadata.clean(spaced)


def test_webp_payloads_read_ahead_up_to_max_webp_read_ahead_and_one_byte_over_refused(monkeypatch):
    # MAX_WEBP_READ_AHEAD (32 MB) patched to what this file holds (VP8X, ICCP and EXIF payloads).
    from metadata.formats import webp

    data = b.webp()
    held = sum(size for name, size in _riff_chunks(data) if name in (b"VP8X", b"ICCP", b"EXIF"))
    assert {name for name, _ in _riff_chunks(data)} >= {b"VP8X", b"ICCP", b"EXIF"}
    monkeypatch.setattr(webp, "MAX_WEBP_READ_AHEAD", held)
    assert b.SECRET not in metadata.clean(data).data
    monkeypatch.setattr(webp, "MAX_WEBP_READ_AHEAD", held - 1)
    with pytest.raises(ImageError, match=f"its ICC profile and EXIF chunks are over {held - 1} bytes"):
        metadata.clean(data)


HOSTILE_NATIVE = {
    **{f"heif {name}": make for name, make in hs.HOSTILE.items()},
    **{f"webp {name}": (lambda change=change: change(b.webp(6))) for name, change in webps.WEBP_HOSTILE.items()},
}


@pytest.mark.parametrize("case", sorted(HOSTILE_NATIVE))
def test_a_hostile_heif_or_webp_is_refused_before_its_first_byte(case):
    """Everything a HEIF or WebP is refused for is found from the reads before the first byte
    (the kept data of these files is small), so the streamed strip refuses at open."""
    data = HOSTILE_NATIVE[case]()
    with pytest.raises(ImageError):
        metadata.clean(data)
    with pytest.raises(ImageError):
        metadata.open_strip(data[:16], len(data), _counting(data)[1], max_buffered=0)


@pytest.mark.parametrize("name", ["heic iloc-v1-idat", "heic meta-after-mdat", "webp animated", "heic large item"])
def test_changing_a_heif_or_webp_chunk_after_feeding_it_changes_nothing(name):
    data = {**STREAMED_CORPUS, **LARGE_CORPUS}[name]()
    expected = metadata.clean(data).data
    strip = metadata.open_strip(data[:16], len(data), _counting(data)[1], max_buffered=0)
    out = []
    for chunk in _chunks_random(data, 5):
        held = bytearray(chunk)
        out.append(strip.feed(held))
        held[:] = b"\x00" * len(held)  # a caller reusing its buffer
    out.append(strip.finish())
    assert b"".join(out) == expected


# ---------------------------------------------------------------- PNG


def _png_with_late_exif() -> bytes:
    plain = b.png(exif=False, text=False, icc=False)
    return b.png_insert_before_iend(plain, b.png_chunk(b"eXIf", b.tiff_structure(b.exif_block(6))))


@pytest.mark.parametrize("name", ["png", "png text after the image data", "png late exif", "jxl everything at once", "jxl jxlc and metadata boxes"])
def test_keep_copyright_streams_as_it_strips(name):
    data = CORPUS[name]()
    expected = metadata.clean(data, keep_copyright=True)
    for chunks in ([data], _chunks_random(data, 8), [data[i : i + 1] for i in range(len(data))]):
        out, strip = _streamed(data, chunks, keep_copyright=True)
        assert (out, strip.removed) == (expected.data, expected.removed)


def test_a_late_exif_keeps_its_copyright_where_it_was_and_never_rotates_the_image():
    """Browsers read eXIf only before the image data; to put a late one's Copyright after
    IHDR the whole file would have to be read before the first byte."""
    data = _png_with_late_exif()
    stripped = metadata.clean(data, keep_copyright=True)
    names = [name for name, _ in b.png_chunks(stripped.data)]
    assert names.index(b"eXIf") > names.index(b"IDAT")
    assert exif_of(stripped.data) == expected_kept_exif(None, keep_copyright=True)
    assert b"eXIf" not in metadata.strip(data)  # without keep_copyright nothing is left of it
    for chunks in (_chunks_random(data, 2), [data[i : i + 1] for i in range(len(data))]):
        assert _streamed(data, chunks, keep_copyright=True)[0] == stripped.data
    assert metadata.strip(stripped.data, keep_copyright=True) == stripped.data


PNG_HOSTILE_STREAMS = {
    "an idat swallowing the chunks after it": (lambda: pngs.swallowing_idat(cut=False), "past the end of its image data"),
    "an idat cut off swallowing the chunks after it": (lambda: pngs.swallowing_idat(cut=True), "past the end of its image data"),
    "a text chunk failing its crc": (lambda: _text_failing_crc(), "tEXt chunk at offset .* fails its CRC"),
    "damaged data inflating past its size": (lambda: _inflating_past_its_size(), "more than the 20 bytes IHDR declares"),
    "no idat": (lambda: pngs.SOURCE[: pngs.idat_span(0)[0]], "before any IDAT"),
}


def _text_failing_crc() -> bytes:
    start, end = [(s, e) for name, s, e in pngs.chunk_spans(pngs.SOURCE) if name == b"tEXt"][-1]
    return pngs.SOURCE[: end - 1] + bytes([pngs.SOURCE[end - 1] ^ 1]) + pngs.SOURCE[end:]


def _inflating_past_its_size() -> bytes:
    ihdr = struct.pack(">IIBBBBB", 4, 4, 8, 0, 0, 0, 0)
    image_data = zlib.compress(bytes(5 * 4) + bytes(5000), 0)
    return b.PNG_SIGNATURE + b.png_chunk(b"IHDR", ihdr) + b.png_chunk(b"IDAT", image_data)[:-20]


@pytest.mark.parametrize("case", sorted(PNG_HOSTILE_STREAMS))
def test_a_hostile_png_is_refused_however_it_is_fed_and_its_metadata_never_written(case):
    """A damaged IDAT is judged when its CRC fails, after the first byte: the stream is cut,
    and what was written before never holds the chunks its length swallowed."""
    make, reason = PNG_HOSTILE_STREAMS[case]
    data = make()
    with pytest.raises(ImageError, match=reason):
        metadata.clean(data)
    cuts = ([data], _chunks_random(data, 5), [data[i : i + 1] for i in range(len(data))])
    for chunks, read_range in [(chunks, read_range) for chunks in cuts for read_range in (None, lambda s, e: data[s:e])]:
        strip = metadata.open_strip(data[:16], len(data), read_range, max_buffered=0)
        written = []
        with pytest.raises(ImageError, match=reason):
            for chunk in chunks:
                written.append(strip.feed(chunk))
            strip.finish()
        assert b.SECRET not in b"".join(written) and b"<x:xmpmeta" not in b"".join(written)


def test_the_png_head_is_written_before_the_image_data_ends():
    data = pngs.SOURCE
    start, end = pngs.idat_span(1)
    strip = metadata.open_strip(data[:16], len(data), None, max_buffered=0)
    first = strip.feed(data[: start + 100])
    assert first.startswith(b.PNG_SIGNATURE) and data[pngs.idat_span(0)[0] : start + 100] in first
    assert b.SECRET not in first and strip.mime_type == "image/png"


def test_changing_a_png_chunk_after_feeding_it_changes_nothing():
    data = CORPUS["png idat failing its crc"]()
    expected = metadata.clean(data).data
    strip = metadata.open_strip(data[:16], len(data), None, max_buffered=0)
    out = []
    for chunk in _chunks_random(data, 4):
        piece = bytearray(chunk)
        out.append(strip.feed(piece))
        piece[:] = b"\x00" * len(piece)
    out.append(strip.finish())
    assert b"".join(out) == expected


class _CountingReader:
    """Hands out an image a chunk at a time and records the walk's buffer after each."""

    def __init__(self, data: bytes, chunk: int) -> None:
        self.data, self.chunk = data, chunk

    def run(self, strip: metadata.StreamStrip) -> tuple[int, int]:
        walk = strip._walk  # noqa: SLF001 - the walk's own buffers
        largest = written = 0
        for offset in range(0, len(self.data), self.chunk):
            written += len(strip.feed(self.data[offset : offset + self.chunk]))
            held = len(walk._buf) + walk._held_size + sum(len(blob) for blob in walk._head)  # noqa: SLF001
            largest = max(largest, held)
        written += len(strip.finish())
        return largest, written


def _large_png(megabytes: int) -> bytes:
    """A greyscale PNG whose image data (stored deflate blocks) is one IDAT of about
    `megabytes` MB, then the same again split into 64 KiB IDATs, with text around them."""
    width = 4000
    height = megabytes * 1_000_000 // (width + 1)
    rows = bytes(range(256)) * ((width + 1) * height // 256 + 1)
    image_data = zlib.compress(rows[: (width + 1) * height], 0)
    half = len(image_data) // 2
    idats = [b.png_chunk(b"IDAT", image_data[:half])]
    idats += [b.png_chunk(b"IDAT", image_data[i : i + 65536]) for i in range(half, len(image_data), 65536)]
    ihdr = b.png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    return b"".join([b.PNG_SIGNATURE, ihdr, pngs.TEXT_AFTER, *idats, pngs.ITXT_AFTER, b.png_chunk(b"IEND", b"")])


def test_an_intact_png_is_never_inflated_and_a_damaged_idat_is_judged_from_ranged_reads():
    """IDAT chunks are held until their CRC: an intact file needs no inflating; a damaged
    IDAT's check re-reads the image data already written, with ranged reads."""
    for data, damaged in ((pngs.SOURCE, False), (pngs.with_idat_crc(pngs.SOURCE, 2, 0), True)):
        reads = []

        def read_range(start, end, data=data):
            reads.append((start, end))
            return data[start:end]

        strip = metadata.open_strip(data[:16], len(data), read_range, max_buffered=0)
        out = b"".join(strip.feed(chunk) for chunk in _chunks_random(data, 11)) + strip.finish()
        assert out == metadata.clean(data).data
        assert (strip._walk._check is not None, bool(reads)) == (damaged, damaged)  # noqa: SLF001
        if damaged:
            assert reads[0][0] == pngs.idat_span(0)[0] and len(reads) == 1  # from the first IDAT, one 256 KiB piece


def test_a_damaged_idat_is_refused_as_png_when_its_re_read_comes_back_short():
    """The ranged re-read of the IDATs already written finds the file shorter than its
    declared size (it changed since it was measured): refused, the message naming PNG."""
    data = pngs.with_idat_crc(pngs.SOURCE, 2, 0)
    shorter = data[:-1]
    strip = metadata.open_strip(data[:16], len(data), lambda s, e: shorter[s:e], max_buffered=0)
    with pytest.raises(ImageError, match=rf"^PNG: the input ended at offset {len(data) - 1}, before its declared size {len(data)}$"):
        strip.feed(data)


def test_a_long_idat_after_short_ones_is_inflated_as_it_passes_and_damage_still_judged(monkeypatch):
    monkeypatch.setattr(png, "MAX_HELD_IDAT", 1000)  # the first IDAT is split in shorter ones, the rest are longer
    reads = []
    for source in (pngs.SOURCE, pngs.swallowing_idat(cut=False), pngs.with_idat_crc(pngs.SOURCE, 3, 0)):
        data = _first_idat_split(source, 900)
        expected = _outcome(lambda: metadata.clean(data).data)
        strip = metadata.open_strip(data[:16], len(data), lambda s, e, data=data: reads.append(s) or data[s:e], max_buffered=0)
        assert _outcome(lambda: b"".join(strip.feed(c) for c in _chunks_random(data, 12)) + strip.finish()) == expected


    assert reads, "the inflater was caught up with ranged reads"


def test_an_idat_of_max_held_idat_bytes_is_held_to_its_crc_and_one_byte_longer_passes_as_it_comes(monkeypatch):
    # MAX_HELD_IDAT (4 MiB) patched to the length of this PNG's first IDAT, at the module that
    # reads it. Fed up to that chunk's CRC, a held IDAT has written none of its data; a longer
    # one than the cap passes through (inflated as it passes), so its data is already out.
    data = b.png(exif=False, text=False, icc=False)
    _, start, end = next(chunk for chunk in pngs.chunk_spans(data) if chunk[0] == b"IDAT")
    length = end - start - 12
    body = data[start + 8 : end - 4]
    expected = metadata.clean(data).data
    for cap, held in ((length, True), (length - 1, False)):
        monkeypatch.setattr(png, "MAX_HELD_IDAT", cap)
        strip = metadata.open_strip(data[:16], len(data), lambda s, e: data[s:e], max_buffered=0)
        before_crc = strip.feed(data[: end - 4])
        assert (body[:64] in before_crc) is (not held), cap
        assert before_crc + strip.feed(data[end - 4 :]) + strip.finish() == expected

def _first_idat_split(data: bytes, piece: int) -> bytes:
    name, start, end = next(chunk for chunk in pngs.chunk_spans(data) if chunk[0] == b"IDAT")
    body = data[start + 8 : end - 4]
    pieces = b"".join(b.png_chunk(b"IDAT", body[i : i + piece]) for i in range(0, len(body), piece))
    return data[:start] + pieces + data[end:]


def _outcome(run) -> object:
    try:
        return run()
    except ImageError as error:
        return str(error)


def test_the_png_walk_holds_a_chunk_not_the_image():
    """A 40 MB PNG (one 20 MB IDAT, then 64 KiB ones) passes through: the walk never holds
    more than about a chunk, and it writes the image data as it comes."""
    data = _large_png(40)
    chunk = 256 * 1024
    for read_range in (None, lambda s, e: data[s:e]):
        strip = metadata.open_strip(data[:16], len(data), read_range, max_buffered=0)
        largest, written = _CountingReader(data, chunk).run(strip)
        assert largest <= chunk + 64 * 1024
        assert written == len(data) - len(pngs.TEXT_AFTER) - len(pngs.ITXT_AFTER) and strip.removed == ("comment", "xmp")


# ---------------------------------------------------------------- JPEG XL


@pytest.mark.parametrize("case", sorted(jxs.HOSTILE))
def test_a_hostile_jxl_is_refused_however_it_is_fed(case):
    data = jxs.HOSTILE[case]()
    with pytest.raises(ImageError) as whole:
        metadata.clean(data)
    for chunks in ([data], _chunks_random(data, 6), [data[i : i + 1] for i in range(len(data))]):
        with pytest.raises(ImageError) as streamed:
            _streamed(data, chunks)
        assert str(streamed.value) == str(whole.value)


def test_a_jxl_is_planned_from_bounded_ranged_reads_and_never_held():
    """A 20 MB box after the codestream is neither read ahead nor held: the plan reads the
    headers, and the input then passes through a chunk at a time."""
    codestream = jxs.bare_codestream((300, 200))
    data = ib.jxl_container((0, ib.jxl_exif_box(jxs.EXIF)), codestream=codestream) + box(b"jumb", b"\x00" * 20_000_000)
    reads = []
    view = memoryview(data)

    def read_range(start, end):
        reads.append((start, end))
        return view[start:end]

    strip = metadata.open_strip(data[:16], len(data), read_range, max_buffered=0)
    walk = strip._walk  # noqa: SLF001
    chunk, out = 256 * 1024, []
    out.append(strip.feed(data[:chunk]))
    assert reads and out[0].startswith(data[:12]) and len(out[0]) > len(codestream), "the codestream goes out as it arrives"
    for offset in range(chunk, len(data), chunk):
        out.append(strip.feed(data[offset : offset + chunk]))
    out.append(strip.finish())
    assert b"".join(out) == metadata.clean(data).data
    assert sum(end - start for start, end in reads) <= 2 * ranged_input.PIECE
    assert not hasattr(walk, "_buf") and not walk._held  # noqa: SLF001 - nothing held


def test_a_jxl_whose_box_changed_after_it_was_measured_is_refused():
    data = CORPUS["jxl jxlp in three and metadata boxes"]()
    measured = data.replace(b"xml ", b"skip", 1)  # the ranged reads saw another box there
    strip = metadata.open_strip(data[:16], len(data), lambda s, e: measured[s:e], max_buffered=0)
    with pytest.raises(ImageError, match="differs from the one measured"):
        strip.feed(data)
        strip.finish()


def test_a_jxl_shorter_than_its_declared_size_is_refused():
    data = CORPUS["jxl jxlc and metadata boxes"]()
    strip = metadata.open_strip(data[:16], len(data), lambda s, e: data[s:e], max_buffered=0)
    strip.feed(data[:-5])
    with pytest.raises(ImageError, match="before its declared size"):
        strip.finish()


def test_a_png_text_chunk_too_long_to_hold_is_walked_over_and_its_crc_checked(monkeypatch):
    monkeypatch.setattr(png, "MAX_STREAM_HEAD_BYTES", 4096)
    long_text = b.png_chunk(b"zTXt", b"XML:com.adobe.xmp\x00\x00" + b.SECRET * 2000)
    data = b.png_insert_before_iend(b.png(exif=False, text=False, icc=False), long_text)
    whole = metadata.clean(data)
    assert b.SECRET not in whole.data and whole.removed == ("xmp",)
    for chunks in (_chunks_random(data, 9), [data[i : i + 1] for i in range(len(data))]):
        out, strip = _streamed(data, chunks)
        assert (out, strip.removed) == (whole.data, whole.removed)
        assert len(strip._walk._prefix) <= png.MAX_KEYWORD + 1  # noqa: SLF001 - walked over, not held
    damaged = data[:-20] + bytes([data[-20] ^ 1]) + data[-19:]  # a byte of the text changed: its CRC fails
    with pytest.raises(ImageError, match="zTXt chunk at offset .* fails its CRC check"):
        metadata.clean(damaged)
    assert metadata.clean(data[:-200]).removed == ("xmp",)  # cut off inside it: dropped, its kind from its keyword



def _png_with_long_chunks(*chunks: bytes, iend: bool = True) -> tuple[bytes, bytes]:
    """(the builder's PNG without metadata, the same with `chunks` before its IEND, or instead of it)."""
    plain = b.png(exif=False, text=False, icc=False)
    return plain, (b.png_insert_before_iend(plain, *chunks) if iend else plain[:-12] + b"".join(chunks))


LONG_XMP = b.png_chunk(b"zTXt", b"XML:com.adobe.xmp\x00\x00" + b.SECRET * 2000)
LONG_PRIVATE = b.png_chunk(b"prVt", b.SECRET * 2000)


@pytest.mark.parametrize("into_crc", [0, 1, 2, 3, 4])
def test_a_png_chunk_walked_over_is_checked_whatever_the_piece_its_crc_ends_in(monkeypatch, into_crc):
    monkeypatch.setattr(png, "MAX_STREAM_HEAD_BYTES", 4096)
    plain, data = _png_with_long_chunks(LONG_XMP)
    crc_at = len(data) - 12 - 4  # the long chunk's CRC, before IEND
    out, strip = _streamed(data, [data[: crc_at + into_crc], data[crc_at + into_crc :]])
    assert (out, strip.removed) == (plain, ("xmp",))


def test_png_chunks_walked_over_one_after_the_other_are_all_dropped(monkeypatch):
    monkeypatch.setattr(png, "MAX_STREAM_HEAD_BYTES", 4096)
    plain, data = _png_with_long_chunks(LONG_XMP, LONG_PRIVATE, LONG_XMP)
    assert metadata.clean(data) == metadata.StripResult(plain, "png", "image/png", ("other", "xmp"), ())


def test_a_png_ending_with_a_chunk_walked_over_is_served_only_if_its_crc_holds(monkeypatch):
    monkeypatch.setattr(png, "MAX_STREAM_HEAD_BYTES", 4096)
    plain, data = _png_with_long_chunks(LONG_PRIVATE, iend=False)
    result = metadata.clean(data)
    assert (result.data, result.removed) == (plain[:-12], ("other",))
    damaged = data[:-1] + bytes([data[-1] ^ 1])
    with pytest.raises(ImageError, match=f"^PNG: prVt chunk at offset {len(plain) - 12} fails its CRC check$"):
        metadata.clean(damaged)


@pytest.mark.parametrize("extra", [0, 1])
def test_a_png_chunk_held_whole_may_be_max_stream_head_bytes_and_one_byte_longer_is_refused(monkeypatch, extra):
    monkeypatch.setattr(png, "MAX_STREAM_HEAD_BYTES", 4096)
    display = b.png_chunk(b"pHYs", bytes(4096 - 12 + extra))  # kept whatever it holds: held whole to be checked
    plain, data = _png_with_long_chunks(display)
    if extra:
        reason = f"^PNG: pHYs chunk at offset {len(plain) - 12} is longer than the 4096 bytes a chunk held whole may be$"
        with pytest.raises(ImageError, match=reason):
            metadata.clean(data)
    else:
        assert metadata.clean(data).data == data


def test_a_png_head_over_max_stream_head_bytes_is_refused_while_streaming(monkeypatch):
    monkeypatch.setattr(png, "MAX_STREAM_HEAD_BYTES", 4096)
    plain = b.png(exif=False, text=False, icc=False)
    head = b.png_chunk(b"pHYs", bytes(2000)) * 3  # before the image data: the head holds them
    data = plain[:33] + head + plain[33:]
    with pytest.raises(ImageError, match=r"^PNG: no image data begins in the first 4096 bytes \(the most a head may hold\)$"):
        _streamed(data, [data[i : i + 100] for i in range(0, len(data), 100)])
    small = plain[:33] + head[: 2 * 2012] + plain[33:]  # 33 + 4024 bytes before the first IDAT
    assert _streamed(small, [small[i : i + 100] for i in range(0, len(small), 100)])[0] == small


def test_a_late_exif_of_max_stream_head_bytes_is_held_and_read_not_walked_over(monkeypatch):
    monkeypatch.setattr(png, "MAX_STREAM_HEAD_BYTES", 4096)
    block = b.tiff_structure(b.exif_block(1))
    exif = b.png_chunk(b"eXIf", block + bytes(4096 - 12 - len(block)))  # padded after its IFDs
    assert len(exif) == 4096
    _, data = _png_with_long_chunks(exif)
    stripped = metadata.strip(data, keep_copyright=True)
    assert exif_of(stripped) == expected_kept_exif(1, keep_copyright=True)

@pytest.mark.parametrize("extra", [0, 1])
def test_bytes_after_a_passing_idat_stream_are_held_up_to_max_stream_head_bytes(monkeypatch, extra):
    monkeypatch.setattr(png, "MAX_STREAM_HEAD_BYTES", 4096)
    monkeypatch.setattr(png, "MAX_HELD_IDAT", 0)  # every IDAT inflated as it passes
    plain = b.png(exif=False, text=False, icc=False)
    image_data = b.png_chunks(plain)[1][1]
    idat = b.png_chunk(b"IDAT", image_data + bytes(4096 + extra))  # its CRC vouches for the bytes after the stream
    data = plain[:33] + idat + plain[-12:]
    pieces = [data[i : i + 512] for i in range(0, len(data), 512)]
    if extra:
        reason = "^PNG: the IDAT chunk at offset 33 holds more than 4096 bytes after the end of its image data$"
        with pytest.raises(ImageError, match=reason):
            _streamed(data, pieces)
    else:
        assert _streamed(data, pieces)[0] == data

# ---------------------------------------------------------------- the shared pieces: ranged reads, planned runs

RANGED_DATA = bytes(range(48))


def _recorded_input(monkeypatch, size: int = len(RANGED_DATA), short: int = 0):
    """A RangedInput over RANGED_DATA[:size] with a 16-byte PIECE, and the list of reads it makes
    (each coming back `short` bytes short)."""
    monkeypatch.setattr(ranged_input, "PIECE", 16)
    calls: list[tuple[int, int]] = []

    def read_range(start: int, end: int) -> bytes:
        calls.append((start, end))
        return RANGED_DATA[start : end - short]

    return ranged_input.RangedInput(read_range, size, "PNG"), calls


def test_ranged_reads_ask_for_a_piece_keep_the_last_one_and_clip_at_the_size(monkeypatch):
    reads, calls = _recorded_input(monkeypatch)
    # (start, end) asked, the read_range call it makes (None: answered without one)
    steps = [
        ((0, 4), (0, 16)),  # a piece of PIECE bytes, kept
        ((4, 10), None),
        ((0, 16), None),  # the kept piece, to its last byte
        ((10, 20), (10, 26)),
        ((10, 26), None),
        ((0, 40), (0, 40)),  # longer than a piece: read as asked, not kept
        ((12, 14), None),  # the piece from 10 is still the one kept
        ((40, 100), (40, 48)),  # clipped at the size
        ((48, 60), None),  # nothing left
        ((20, 20), None),
        ((30, 25), None),
    ]
    for (start, end), call in steps:
        before = list(calls)
        assert bytes(reads(start, end)) == RANGED_DATA[start:end], (start, end)
        assert calls == before + ([call] if call else []), (start, end)
    assert reads.reads == len(calls) == 4


def test_a_ranged_read_of_the_last_bytes_asks_only_for_what_is_there(monkeypatch):
    reads, calls = _recorded_input(monkeypatch)
    assert bytes(reads(44, 46)) == RANGED_DATA[44:46]
    assert calls == [(44, 48)]


def test_a_ranged_read_that_comes_back_short_is_refused_with_where_the_input_ended(monkeypatch):
    reads, _ = _recorded_input(monkeypatch, short=1)
    with pytest.raises(ImageError, match=r"^PNG: the input ended at offset 19, before its declared size 48$"):
        reads(4, 8)


def test_a_ranged_span_reads_nothing_until_it_is_turned_into_bytes(monkeypatch):
    reads, calls = _recorded_input(monkeypatch)
    span = reads.span(4, 20)
    part = span[2:5]
    assert (len(span), len(part), part.start, part.end) == (16, 3, 6, 9)
    assert len(span[-3:]) == 3 and bytes(span[-3:]) == RANGED_DATA[17:20]
    assert len(span[5:2]) == 0 and bytes(span[5:2]) == b""
    assert len(reads.span(9, 4)) == 0
    assert calls == [(17, 33)]  # only the one span turned into bytes
    assert bytes(part) == RANGED_DATA[6:9]


class _RecordedRuns(walks.PlannedWalk):
    """A PlannedWalk recording its hooks: ("verify", start, bytes), ("passed", run, bytes), ("done", run)."""

    def __init__(self, size: int, head: bytes, runs: list[tuple[int, int]]) -> None:
        super().__init__("WebP", size, head, runs)
        self.events: list[tuple] = []

    def _verify(self, start: int, view: memoryview) -> None:
        self.events.append(("verify", start, bytes(view)))

    def _passed(self, number: int, part: memoryview) -> None:
        self.events.append(("passed", number, bytes(part)))

    def _run_done(self, number: int) -> None:
        self.events.append(("done", number))


PLANNED_RUNS = [(2, 5), (5, 6), (8, 12), (15, 16)]  # adjacent, apart, and one ending the input


@pytest.mark.parametrize("piece", [1, 2, 3, 5, 16])
def test_a_planned_walk_passes_exactly_its_runs_whatever_the_pieces(piece):
    source = bytes(range(100, 116))
    walk = _RecordedRuns(len(source), b"head", PLANNED_RUNS)
    fed = [walk.feed(source[at : at + piece]) + walk.feed(b"") for at in range(0, len(source), piece)]  # and an empty chunk
    out = b"".join(fed) + walk._end()  # noqa: SLF001
    assert out == b"head" + b"".join(source[start:end] for start, end in PLANNED_RUNS)
    passed: dict[int, bytes] = {}
    for event in walk.events:
        if event[0] == "passed":
            assert event[2], "no empty part is passed"
            passed[event[1]] = passed.get(event[1], b"") + event[2]
    assert passed == {number: source[start:end] for number, (start, end) in enumerate(PLANNED_RUNS)}
    done = [event[1] for event in walk.events if event[0] == "done"]
    assert done == list(range(len(PLANNED_RUNS)))
    for number, (start, end) in enumerate(PLANNED_RUNS):  # a run is done once its last byte has passed
        done_at = walk.events.index(("done", number))
        fed = sum(len(event[2]) for event in walk.events[:done_at] if event[0] == "verify")
        assert end <= fed < end + piece
    verified = [event[1] for event in walk.events if event[0] == "verify"]
    assert verified == [at for start in range(0, len(source), piece) for at in (start, min(start + piece, len(source)))]


def test_a_planned_walk_writes_its_head_once_even_for_an_empty_input():
    walk = _RecordedRuns(0, b"head", [])
    assert walk._end() == b"head"  # noqa: SLF001
    walk = _RecordedRuns(4, b"head", [(0, 4)])
    assert walk.feed(b"ab") == b"headab" and walk.feed(b"cd") == b"cd" and walk._end() == b""  # noqa: SLF001


def test_a_planned_walk_refuses_an_input_longer_or_shorter_than_declared():
    walk = _RecordedRuns(4, b"head", [(0, 4)])
    walk.feed(b"abc")
    with pytest.raises(ImageError, match=r"^WebP: the input is longer than its declared 4 bytes$"):
        walk.feed(b"de")
    walk = _RecordedRuns(4, b"head", [(0, 4)])
    walk.feed(b"abcd")  # exactly the declared size: accepted
    assert walk._end() == b""  # noqa: SLF001
    walk = _RecordedRuns(4, b"head", [(0, 4)])
    walk.feed(b"abc")
    with pytest.raises(ImageError, match=r"^WebP: the input ended at offset 3, before its declared size 4$"):
        walk._end()  # noqa: SLF001
