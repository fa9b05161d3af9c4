"""Turn image arrays into display frames (uint8, PNG bytes)."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

import numpy as np

from ..imaging import clip_std, to_uint8 as scale_to_uint8


def as_image_array(value: Any) -> tuple[np.ndarray, str]:
    """Accept an array or ``{"image": array, "caption": str}``; return a 2-D
    or 3-D (H, W, 3) float array and its caption."""
    caption = ""
    if isinstance(value, dict):
        caption = str(value.get("caption", ""))
        value = value.get("image")
    arr = np.asarray(value, dtype=np.float32)
    while arr.ndim > 3 or (arr.ndim == 3 and arr.shape[0] == 1 and arr.shape[-1] not in (1, 3)):
        arr = arr[0]
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
        raise ValueError(f"cannot show an array of shape {np.shape(value)} as an image")
    return arr, caption


def to_uint8(arr: np.ndarray, contrast: float | None = None) -> np.ndarray:
    """Min-max scale to 0..255; ``contrast`` clips at that many std devs."""
    arr = np.nan_to_num(arr.astype(np.float32))
    return scale_to_uint8(clip_std(arr, contrast) if contrast else arr)


def to_png(value: Any, max_side: int = 320) -> tuple[bytes, int, int, str]:
    """PNG bytes, width, height and caption of an image value."""
    from PIL import Image

    arr, caption = as_image_array(value)
    img = Image.fromarray(to_uint8(arr[..., :3] if arr.ndim == 3 else arr))
    scale = max_side / max(img.size)
    if scale < 1:
        img = img.resize((max(1, round(img.width * scale)), max(1, round(img.height * scale))))
    elif max(img.size) < 112:  # tiny maps: enlarge without blurring
        factor = max(1, 112 // max(img.size))
        img = img.resize((img.width * factor, img.height * factor), Image.NEAREST)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue(), img.width, img.height, caption


def _png(width: int, height: int, idat: list[bytes]) -> bytes:
    """An RGBA PNG file around zlib data given in pieces (joined once)."""

    def chunk(kind: bytes, data: list[bytes]) -> list[bytes]:
        crc = zlib.crc32(kind)
        for piece in data:
            crc = zlib.crc32(piece, crc)
        return [struct.pack(">I", sum(map(len, data))), kind, *data, struct.pack(">I", crc)]

    header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits per channel, RGBA
    return b"".join([b"\x89PNG\r\n\x1a\n", *chunk(b"IHDR", [header]), *chunk(b"IDAT", idat), *chunk(b"IEND", [])])


def fast_png(rgba: np.ndarray, level: int = 1) -> bytes:
    """An RGBA uint8 array as PNG, built with zlib and no per-row filter
    search: for whole live frames this is about a third cheaper than PIL's
    adaptive filtering, and zlib lets other threads run while it compresses."""
    h, w = rgba.shape[:2]
    rows = np.empty((h, w * 4 + 1), np.uint8)
    rows[:, 0] = 0  # filter type "none"
    rows[:, 1:] = np.ascontiguousarray(rgba, dtype=np.uint8).reshape(h, w * 4)
    return _png(w, h, [zlib.compress(rows.tobytes(), level)])


_zero_runs: dict[int, bytes] = {}


def _deflated_zeros(n: int) -> bytes:
    """Raw deflate data for ``n`` zero bytes, byte-aligned and not final, so
    it can sit between other such pieces: joined from runs of 2**k zeros,
    each compressed once (compressing zeros still costs zlib a full pass)."""
    out, k = [], 0
    while n:
        if n & 1:
            piece = _zero_runs.get(k)
            if piece is None:
                c = zlib.compressobj(1, zlib.DEFLATED, -15)
                piece = _zero_runs[k] = c.compress(bytes(1 << k)) + c.flush(zlib.Z_SYNC_FLUSH)
            out.append(piece)
        n, k = n >> 1, k + 1
    return b"".join(out)


def _spans(rects: list[tuple[int, int, int, int]], y0: int, y1: int, most: int) -> list[tuple[int, int]]:
    """Merged column spans of the rects that cover rows y0..y1, none wider than ``most``."""
    spans: list[list[int]] = []
    for c0, c1 in sorted((c0, c1) for r0, r1, c0, c1 in rects if r0 <= y0 and r1 >= y1):
        if spans and c0 <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], c1)
        else:
            spans.append([c0, c1])
    return [(a, min(a + most, b)) for c0, b in spans for a in range(c0, b, most)]


def sparse_png(rgba: np.ndarray, rects: list[tuple[int, int, int, int]]) -> bytes:
    """A PNG from the top left of ``rgba`` to the far edge of ``rects``
    (row0, row1, col0, col1), with the pixels inside the rects and all else
    transparent: a diff frame. Its cost follows the rects' pixels, not the
    image's: the pixels go in as stored deflate blocks, the transparent rest
    as cached compressed runs of zeros, and the Adler-32 checksum is summed
    from the stored pixels alone (zeros add nothing to its sums)."""
    h, w = rgba.shape[:2]
    rects = [(max(0, r0), min(h, r1), max(0, c0), min(w, c1)) for r0, r1, c0, c1 in rects]
    rects = [r for r in rects if r[0] < r[1] and r[2] < r[3]] or [(0, 1, 0, 1)]
    height, width = max(r[1] for r in rects), max(r[3] for r in rects)
    row_len = 4 * width + 1  # the filter byte, then the pixels
    pieces = [b"\x78\x01"]  # zlib header: deflate, 32 KB window, fastest
    sum_d = sum_pd = 0  # sum of the bytes and of their positions times them
    edges = sorted({0, height, *(r for r0, r1, _, _ in rects for r in (r0, r1) if r <= height)})
    for y0, y1 in zip(edges, edges[1:]):
        spans = _spans(rects, y0, y1, 16383)  # a stored block holds at most 65535 bytes
        if not spans:
            pieces.append(_deflated_zeros((y1 - y0) * row_len))
            continue
        template, slots, at, col = [], [], 0, -1  # one row: zeros, (block header, pixels, zeros)...
        for c0, c1 in spans:
            zeros = _deflated_zeros(1 + 4 * c0 if col < 0 else 4 * (c0 - col))
            size = 4 * (c1 - c0)
            header = b"\x00" + struct.pack("<HH", size, size ^ 0xFFFF)
            template += [zeros, header, bytes(size)]
            at += len(zeros) + len(header)
            slots.append((at, c0, c1))
            at += size
            col = c1
        template.append(_deflated_zeros(4 * (width - col)))
        unit = np.frombuffer(b"".join(template), np.uint8)
        rows = np.empty((y1 - y0, unit.size), np.uint8)
        rows[:] = unit
        for at, c0, c1 in slots:
            data = rgba[y0:y1, c0:c1].reshape(y1 - y0, -1)
            rows[:, at:at + data.shape[1]] = data
            by_row = data.sum(axis=1, dtype=np.int64)
            by_col = data.sum(axis=0, dtype=np.int64)
            start = (np.arange(y0, y1, dtype=np.int64) * row_len + 1 + 4 * c0) % 65521  # no int64 overflow
            sum_d += int(by_row.sum())
            sum_pd += int(start @ by_row) + int(by_col @ np.arange(by_col.size, dtype=np.int64))
        pieces.append(rows.tobytes())
    n = height * row_len
    adler = ((n + n * sum_d - sum_pd) % 65521) << 16 | (1 + sum_d) % 65521
    pieces.append(b"\x01\x00\x00\xff\xff" + struct.pack(">I", adler))  # an empty final block, the checksum
    return _png(width, height, pieces)
