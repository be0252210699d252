#!/usr/bin/python3
"""Writes the slide-reader fixtures and their reference decodes.

Run with Debian's python (it has numpy, PIL and tifffile) and the vips CLI:

    /usr/bin/python3 scripts/make_slide_fixtures.py

Outputs go to tests/fixtures/slide/: small TIFF/PNG/JPEG/WebP files (good and
bad) plus reference.json, which holds what trusted decoders (tifffile, vips,
libtiff, OpenSlide, PIL) return for chosen regions. The TypeScript tests
compare the reader's decodes against those values.

Reference sources, per codec (Debian's tifffile has no imagecodecs, so it
decodes only uncompressed, Deflate and PackBits data itself):
  - uncompressed, Deflate, PackBits: tifffile;
  - LZW, ZSTD, JPEG, vips' JPEG 2000 (33004): vips (libtiff, libjpeg-turbo,
    OpenJPEG);
  - Aperio JPEG 2000 (33003, 33005): tiles encoded and decoded by PIL
    (OpenJPEG); 33003 YCbCr is converted with the JFIF equations in numpy.
    (vips' jp2k tiles cannot simply be relabelled 33005: vips stores YCbCr
    inside them, see make_svs_j2k);
  - real slides: vips openslideload (OpenSlide), python3-openslide for the
    associated images;
  - synthetic pyramid levels (the reader's 2x area average): numpy.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

import numpy as np
import tifffile
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / 'tests' / 'fixtures' / 'slide'
DATA = ROOT.parent / 'shared' / 'data'
SVS = DATA / 'CMU-1-Small-Region.svs'
NDPI = DATA / 'test3-DAPI-2-387.ndpi'

# Regions whose pixels are stored in full (base64) must stay small.
MAX_STORED_PIXELS = 6_000

TMP = Path(tempfile.mkdtemp(prefix='slide-fixtures-'))


def vips(*args: object) -> None:
    subprocess.run(['vips', *map(str, args)], check=True)


def vips_decode(path: Path | str, *load_args: object) -> np.ndarray:
    """Decodes an image with vips and returns it as (H, W, C) numpy array."""
    out = TMP / 'decoded.tif'
    loader = load_args[0] if load_args else None
    if loader in ('openslideload', 'tiffload'):
        vips(loader, path, out, *load_args[1:])
    else:
        vips('copy', path, out)
    arr = tifffile.imread(out)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return arr


def drop_alpha(arr: np.ndarray) -> np.ndarray:
    return arr[:, :, :3] if arr.shape[2] == 4 else arr


def downsample2(arr: np.ndarray) -> np.ndarray:
    """The reader's synthetic pyramid step: 2x2 area average over the pixels
    that exist (odd edges average 1 or 2 pixels), rounded half up for ints."""
    h, w, c = arr.shape
    oh, ow = (h + 1) // 2, (w + 1) // 2
    total = np.zeros((oh * 2, ow * 2, c), np.float64)
    count = np.zeros((oh * 2, ow * 2, 1), np.float64)
    total[:h, :w] = arr
    count[:h, :w] = 1
    total = total.reshape(oh, 2, ow, 2, c).sum(axis=(1, 3))
    count = count.reshape(oh, 2, ow, 2, 1).sum(axis=(1, 3))
    mean = total / count
    if arr.dtype.kind == 'f':
        return mean.astype(arr.dtype)
    return np.floor(mean + 0.5).astype(arr.dtype)


def crop_with_fill(arr: np.ndarray, x: int, y: int, w: int, h: int, fill: float) -> np.ndarray:
    out = np.full((h, w, arr.shape[2]), fill, arr.dtype)
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, arr.shape[1]), min(y + h, arr.shape[0])
    if x1 > x0 and y1 > y0:
        out[y0 - y:y1 - y, x0 - x:x1 - x] = arr[y0:y1, x0:x1]
    return out


def raw_bytes(arr: np.ndarray) -> bytes:
    """Little-endian, channel-interleaved bytes, as the reader's typed arrays hold them."""
    return np.ascontiguousarray(arr.astype(arr.dtype.newbyteorder('<'))).tobytes()


def region_ref(arr: np.ndarray, level: int, x: int, y: int, w: int, h: int, fill: float,
               store_pixels: bool) -> dict:
    block = crop_with_fill(arr, x, y, w, h, fill)
    ref = {
        'level': level, 'x': x, 'y': y, 'width': w, 'height': h,
        'channels': int(block.shape[2]), 'dtype': str(block.dtype),
        'sha256': hashlib.sha256(raw_bytes(block)).hexdigest(),
        'means': [float(block[:, :, c].mean()) for c in range(block.shape[2])],
    }
    if store_pixels:
        assert w * h <= MAX_STORED_PIXELS, (w, h)
        # zlib + base64 keeps reference.json small; the tests inflate it.
        ref['zlib64'] = base64.b64encode(zlib.compress(raw_bytes(block), 9)).decode('ascii')
    return ref


def pyramid_refs(levels: list[np.ndarray], fill: float, lossy: bool) -> list[dict]:
    """Reference regions for a pyramid: a block across tile borders and one that
    runs past the bottom-right edge on level 0, then each smaller level."""
    refs = []
    base = levels[0]
    H, W = base.shape[:2]
    tile_edge = 128 if W > 400 else 64
    refs.append(region_ref(base, 0, tile_edge - 20, tile_edge - 25, 48, 40, fill, lossy))
    refs.append(region_ref(base, 0, W - 30, H - 20, 48, 40, fill, lossy))
    for index, arr in enumerate(levels[1:], start=1):
        h, w = arr.shape[:2]
        if w * h <= MAX_STORED_PIXELS:
            refs.append(region_ref(arr, index, 0, 0, w, h, fill, lossy))
        else:
            refs.append(region_ref(arr, index, w // 2 - 24, h // 2 - 20, 48, 40, fill, lossy))
            refs.append(region_ref(arr, index, 0, 0, w, h, fill, False))
    return refs


def tiff_levels_via_vips(path: Path) -> list[np.ndarray]:
    n = len(tifffile.TiffFile(path).pages)
    return [vips_decode(path, 'tiffload', '--page', i) for i in range(n)]


def tiff_levels_via_tifffile(path: Path) -> list[np.ndarray]:
    with tifffile.TiffFile(path) as tif:
        out = []
        for page in tif.pages:
            arr = page.asarray()
            out.append(arr[:, :, None] if arr.ndim == 2 else arr)
        return out


reference: dict = {'generator': 'scripts/make_slide_fixtures.py', 'files': {}}


def describe(name: str, **info: object) -> dict:
    entry = reference['files'].setdefault(name, {})
    entry.update(info)
    return entry


# --------------------------------------------------------------------------
# Source pixels: a crop of the demo SVS (real H&E tissue), RGB.
# --------------------------------------------------------------------------

def make_crops() -> tuple[Path, np.ndarray, Path, np.ndarray]:
    big = TMP / 'crop.v'
    vips('crop', SVS, TMP / 'crop4.v', 800, 1200, 700, 500)
    vips('extract_band', TMP / 'crop4.v', big, 0, '--n', 3)
    # Lossless fixtures: a smaller, slightly smoothed crop keeps them small.
    small = TMP / 'small.v'
    vips('crop', big, TMP / 'small-sharp.v', 40, 60, 250, 170)
    vips('gaussblur', TMP / 'small-sharp.v', TMP / 'small-blur.v', 1.5, '--precision', 'integer')
    vips('cast', TMP / 'small-blur.v', small, 'uchar')
    return big, vips_decode(big), small, vips_decode(small)


# --------------------------------------------------------------------------
# Pyramidal tiled BigTIFFs written by vips.
# --------------------------------------------------------------------------

def make_vips_pyramids(big: Path, small: Path) -> None:
    out = OUT / 'cmu-jpeg.tif'
    vips('tiffsave', big, out, '--tile', '--pyramid', '--bigtiff', '--compression', 'jpeg',
         '--Q', 70, '--tile-width', 128, '--tile-height', 128)
    levels = tiff_levels_via_vips(out)
    describe(out.name, format='tiff', lossy=True, fill=255,
             levels=[list(a.shape[1::-1]) for a in levels],
             regions=pyramid_refs(levels, 255, lossy=True))

    for codec, extra in (('lzw', []), ('deflate', []), ('zstd', ['--subifd'])):
        out = OUT / f'cmu-{codec}.tif'
        vips('tiffsave', small, out, '--tile', '--pyramid', '--bigtiff', '--compression', codec,
             '--tile-width', 64, '--tile-height', 64, *extra)
        if codec == 'deflate':
            levels = tiff_levels_via_tifffile(out)
        elif codec == 'zstd':
            # SubIFD levels: vips reads them with --subifd.
            n = len(tifffile.TiffFile(out).pages[0].subifds or []) + 1
            levels = [vips_decode(out, 'tiffload', '--subifd', i - 1) for i in range(n)]
        else:
            levels = tiff_levels_via_vips(out)
        describe(out.name, format='tiff', lossy=False, fill=255,
                 levels=[list(a.shape[1::-1]) for a in levels],
                 regions=pyramid_refs(levels, 255, lossy=False))


# --------------------------------------------------------------------------
# SVS-like files with JPEG 2000 tiles.
# --------------------------------------------------------------------------

APERIO_HEADER = 'Aperio Image Library v12.0.15 \r\n'


def j2k_mct_flag(codestream: bytes) -> int:
    cod = codestream.find(b'\xff\x52')
    return codestream[cod + 8]


def jpeg_bytes(arr: np.ndarray, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, 'JPEG', quality=quality)
    return buf.getvalue()


def overwrite_tags(path: Path, changes: dict[int, dict[str, int]]) -> None:
    """tifffile refuses to write codes it cannot encode itself, so segments
    that are already compressed are written as 'Deflate' and the tags are
    corrected afterwards."""
    with tifffile.TiffFile(path, mode='r+b') as tif:
        for index, tags in changes.items():
            for name, value in tags.items():
                tif.pages[index].tags[name].overwrite(value)


def write_svs_like(out: Path, levels: list[tuple[np.ndarray, list[bytes], int]], tile: int,
                   thumbnail: np.ndarray, label: np.ndarray, macro: np.ndarray, mpp: float,
                   mag: int) -> None:
    """Aperio page order: level 0, strip thumbnail, smaller levels, label, macro."""
    h0, w0 = levels[0][0].shape[:2]

    def desc(extra: str) -> str:
        return (f'{APERIO_HEADER}{w0}x{h0} [0,0 {w0}x{h0}] ({tile}x{tile}) J2K/KDU Q=70{extra}'
                f'|AppMag = {mag}|MPP = {mpp}|ScanScope ID = SYNTH|Filename = synthetic|'
                f'Left = 25.5|Top = 18.25')

    fixes: dict[int, dict[str, int]] = {}
    page = 0
    with tifffile.TiffWriter(out) as tif:
        for index, (arr, tiles, compression) in enumerate(levels):
            tif.write(iter(tiles), shape=arr.shape, dtype='uint8', tile=(tile, tile),
                      compression=8, photometric='rgb',
                      description=desc('') if index == 0 else desc(f' -> {arr.shape[1]}x{arr.shape[0]}'),
                      metadata=None)
            fixes[page] = {'Compression': compression}
            page += 1
            if index == 0:
                tif.write(thumbnail, photometric='rgb', compression='zlib', rowsperstrip=16,
                          description=f'{APERIO_HEADER}{w0}x{h0} -> {thumbnail.shape[1]}x{thumbnail.shape[0]}',
                          metadata=None)
                page += 1
        tif.write(label, photometric='rgb', compression='zlib', rowsperstrip=32,
                  description=f'{APERIO_HEADER}label {label.shape[1]}x{label.shape[0]}', metadata=None,
                  subfiletype=1)
        page += 1
        tif.write(iter([jpeg_bytes(macro)]), shape=macro.shape, dtype='uint8', compression=8,
                  photometric='rgb', rowsperstrip=macro.shape[0],
                  description=f'{APERIO_HEADER}macro {macro.shape[1]}x{macro.shape[0]}', metadata=None,
                  subfiletype=9)
        fixes[page] = {'Compression': 7, 'PhotometricInterpretation': 6}
    overwrite_tags(out, fixes)


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """JFIF (full range) YCbCr -> RGB, rounded and clipped."""
    y = ycc[:, :, 0].astype(np.float64)
    cb = ycc[:, :, 1].astype(np.float64) - 128
    cr = ycc[:, :, 2].astype(np.float64) - 128
    rgb = np.stack([y + 1.402 * cr, y - 0.344136 * cb - 0.714136 * cr, y + 1.772 * cb], axis=2)
    return np.clip(np.floor(rgb + 0.5), 0, 255).astype(np.uint8)


def pad_to(arr: np.ndarray, h: int, w: int) -> np.ndarray:
    out = np.zeros((h, w) + arr.shape[2:], arr.dtype)
    out[:arr.shape[0], :arr.shape[1]] = arr
    return out


def pil_j2k_tiles(arr: np.ndarray, tile: int, ycbcr: bool) -> tuple[list[bytes], np.ndarray]:
    """JPEG 2000 codestreams for each tile (edge tiles padded), by PIL/OpenJPEG,
    and the image their decode gives.
    ycbcr=False: RGB with the codestream's own colour transform, lossy (as
      Aperio 33005 stores it).
    ycbcr=True: JFIF YCbCr components with no colour transform, lossless (as
      Aperio 33003 stores it); the decode is converted back with the JFIF
      equations."""
    h, w = arr.shape[:2]
    source = np.asarray(Image.fromarray(arr).convert('YCbCr')) if ycbcr else arr
    tiles = []
    decoded = np.zeros((h, w, 3), np.uint8)
    for ty in range(0, h, tile):
        for tx in range(0, w, tile):
            block = pad_to(source[ty:ty + tile, tx:tx + tile], tile, tile)
            buf = io.BytesIO()
            if ycbcr:
                Image.fromarray(block, 'RGB').save(buf, 'JPEG2000', no_jp2=True, irreversible=False, mct=0)
            else:
                Image.fromarray(block, 'RGB').save(buf, 'JPEG2000', no_jp2=True, irreversible=True, mct=1,
                                                   quality_mode='rates', quality_layers=[24])
            assert j2k_mct_flag(buf.getvalue()) == (0 if ycbcr else 1)
            tiles.append(buf.getvalue())
            values = np.asarray(Image.open(io.BytesIO(buf.getvalue())))
            rgb = ycbcr_to_rgb(values) if ycbcr else values
            decoded[ty:ty + tile, tx:tx + tile] = rgb[:min(tile, h - ty), :min(tile, w - tx)]
    return tiles, decoded


def make_svs_j2k(big_arr: np.ndarray, small: Path) -> None:
    thumbnail = downsample2(downsample2(big_arr))
    label = np.zeros((60, 80, 3), np.uint8)
    label[:, :, 0] = np.arange(80, dtype=np.uint8)[None, :] * 3
    label[:, :, 1] = np.arange(60, dtype=np.uint8)[:, None] * 4
    label[10:50, 20:60, 2] = 200
    macro = downsample2(thumbnail)

    # (1) Aperio 33005: RGB codestreams, two levels, 240-px tiles.
    tile = 240
    encoded = [pil_j2k_tiles(arr, tile, ycbcr=False) for arr in (big_arr, downsample2(big_arr))]
    out = OUT / 'svs-j2k-rgb.svs'
    write_svs_like(out, [(decoded, tiles, 33005) for tiles, decoded in encoded], tile,
                   thumbnail, label, macro, mpp=0.2495, mag=40)
    levels = [decoded for _, decoded in encoded]
    describe(out.name, format='svs', lossy=True, fill=255, mpp=0.2495, objectivePower=40,
             levels=[list(a.shape[1::-1]) for a in levels],
             regions=pyramid_refs(levels, 255, lossy=True),
             associated={
                 'thumbnail': region_ref(thumbnail, -1, 0, 0, thumbnail.shape[1], thumbnail.shape[0], 255, False),
                 'label': region_ref(label, -1, 0, 0, label.shape[1], label.shape[0], 255, False),
                 # The macro is JPEG: its decode comes from PIL (libjpeg-turbo).
                 'macro': region_ref(np.asarray(Image.open(io.BytesIO(jpeg_bytes(macro)))), -1, 0, 0,
                                     macro.shape[1], macro.shape[0], 255, True),
             })

    # (2) Aperio 33003: YCbCr codestreams without colour transform, lossless.
    tile = 128
    crop = big_arr[100:290, 200:450]
    h, w = crop.shape[:2]
    tiles, decoded = pil_j2k_tiles(crop, tile, ycbcr=True)
    out = OUT / 'svs-j2k-ycbcr.svs'
    small_thumb = downsample2(downsample2(crop))
    write_svs_like(out, [(crop, tiles, 33003)], tile, small_thumb, label, downsample2(small_thumb),
                   mpp=0.499, mag=20)
    describe(out.name, format='svs', lossy=True, fill=255, mpp=0.499, objectivePower=20,
             levels=[[w, h]], regions=[region_ref(decoded, 0, 100, 100, 60, 50, 255, True),
                                       region_ref(decoded, 0, 0, 0, w, h, 255, False)],
             # The same pixels before the YCbCr round trip: within 2 grey levels.
             original=region_ref(crop, 0, 100, 100, 60, 50, 255, True))

    # (3) vips' own JPEG 2000 TIFF (tag 33004). vips converts RGB to YCbCr
    # itself before encoding (and still sets the codestream's colour
    # transform), and converts back when reading: OpenJPEG alone returns
    # YCbCr here. Its vips decode is the reference.
    out = OUT / 'cmu-j2k-vips.tif'
    vips('tiffsave', small, out, '--tile', '--tile-width', 64, '--tile-height', 64,
         '--compression', 'jp2k', '--Q', 40)
    arr = vips_decode(out, 'tiffload')
    describe(out.name, format='tiff', lossy=True, fill=255, mpp=0.499, levels=[list(arr.shape[1::-1])],
             regions=pyramid_refs([arr], 255, lossy=True))


# --------------------------------------------------------------------------
# OME-TIFF: synthetic 16-bit, 3 channels as pages, pyramid in SubIFDs.
# --------------------------------------------------------------------------

def ome_channels(h: int, w: int) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    c0 = (x * 40 + y * 20) % 65536
    c1 = 30000 + 3000 * np.sin(x / 30.0) * np.cos(y / 40.0)
    blobs = np.zeros((h, w))
    rng = np.random.default_rng(7)
    for cx, cy, r in zip(rng.uniform(0, w, 25), rng.uniform(0, h, 25), rng.uniform(6, 20, 25)):
        blobs += 50000 * np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * r * r))
    c2 = np.minimum(blobs, 65535)
    return np.stack([c0, c1, c2]).round().astype(np.uint16)


def make_ome() -> None:
    out = OUT / 'ome-3ch-u16.ome.tif'
    data = ome_channels(256, 384)  # (C, Y, X)
    level1 = np.stack([downsample2(c[:, :, None])[:, :, 0] for c in data])
    level2 = np.stack([downsample2(c[:, :, None])[:, :, 0] for c in level1])
    options = dict(tile=(128, 128), compression='zlib', predictor=2)
    with tifffile.TiffWriter(out, ome=True) as tif:
        tif.write(data, subifds=2, metadata={
            'UUID': 'urn:uuid:5f0d2c1e-0000-4000-8000-000000000001',  # fixed: reproducible bytes
            'axes': 'CYX', 'PhysicalSizeX': 0.325, 'PhysicalSizeXUnit': 'µm',
            'PhysicalSizeY': 325, 'PhysicalSizeYUnit': 'nm',
            'Channel': {'Name': ['DAPI', 'FITC', 'TRITC & Co <x>'],
                        'Color': [65535, 16711935, -16776961]},
        }, **options)
        tif.write(level1, subfiletype=1, **options)
        tif.write(level2, subfiletype=1, **options)
    levels = [np.moveaxis(a, 0, 2) for a in (data, level1, level2)]
    describe(out.name, format='ome-tiff', lossy=False, fill=0, mpp=0.325,
             channelNames=['DAPI', 'FITC', 'TRITC & Co <x>'],
             channelColors=['#0000ff', '#00ff00', '#ff0000'],
             levels=[list(a.shape[1::-1]) for a in levels],
             regions=pyramid_refs(levels, 0, lossy=False),
             contrast=region_contrast(levels[2]))
    # Independent check of the file itself: tifffile reads back what we wrote.
    with tifffile.TiffFile(out) as tif:
        assert np.array_equal(tif.series[0].levels[0].asarray(), data)
        assert np.array_equal(tif.series[0].levels[2].asarray(), level2)

    # Brightfield OME: one RGB channel (SamplesPerPixel=3), planar storage.
    out = OUT / 'ome-rgb-planar.ome.tif'
    rgb = vips_decode(TMP / 'small.v')
    with tifffile.TiffWriter(out, ome=True) as tif:
        tif.write(np.moveaxis(rgb, 2, 0), photometric='rgb', planarconfig='separate', tile=(64, 64),
                  compression='zlib', metadata={'axes': 'SYX', 'PhysicalSizeX': 0.5, 'PhysicalSizeY': 0.5,
                                                'UUID': 'urn:uuid:5f0d2c1e-0000-4000-8000-000000000002'})
    with tifffile.TiffFile(out) as tif:
        stored = tif.pages[0].asarray()
    assert np.array_equal(np.moveaxis(stored, 0, 2) if stored.shape[0] == 3 else stored, rgb)
    describe(out.name, format='ome-tiff', lossy=False, fill=255, mpp=0.5,
             levels=[list(rgb.shape[1::-1])], regions=pyramid_refs([rgb], 255, lossy=False))


def region_contrast(arr: np.ndarray) -> dict:
    """0.1 / 99.9 percentiles per channel, 'smallest value whose CDF >= q'."""
    low = [float(np.percentile(arr[:, :, c], 0.1, method='inverted_cdf')) for c in range(arr.shape[2])]
    high = [float(np.percentile(arr[:, :, c], 99.9, method='inverted_cdf')) for c in range(arr.shape[2])]
    return {'level': 2, 'low': low, 'high': high}


# --------------------------------------------------------------------------
# Float32 tiled TIFF with the floating-point predictor (3), Deflate.
# tifffile needs imagecodecs for predictor 3, so the tiles are encoded here
# and libtiff (vips) confirms the encoding.
# --------------------------------------------------------------------------

def float_predictor_encode(tile: np.ndarray) -> bytes:
    h, w = tile.shape
    planes = tile.astype('>f4').view(np.uint8).reshape(h, w, 4)
    rows = np.concatenate([planes[:, :, b] for b in range(4)], axis=1)  # MSB plane first
    diff = rows.copy()
    diff[:, 1:] = (rows[:, 1:].astype(np.int16) - rows[:, :-1].astype(np.int16)).astype(np.uint8)
    return zlib.compress(diff.tobytes(), 6)


def make_float() -> None:
    out = OUT / 'float32-pred3.tif'
    h, w, tile = 150, 200, 64
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    data = (np.sin(x / 17) * np.cos(y / 23) * 1000 + x * 0.125 - 3.5).astype(np.float32)
    tiles = []
    for ty in range(0, h, tile):
        for tx in range(0, w, tile):
            tiles.append(float_predictor_encode(pad_to(data[ty:ty + tile, tx:tx + tile], tile, tile)))
    with tifffile.TiffWriter(out) as tif:
        # Written as int32 with predictor 2 so that both tags exist, then retagged.
        tif.write(iter(tiles), shape=(h, w), dtype='int32', tile=(tile, tile), compression=8,
                  predictor=2, photometric='minisblack', resolution=(20000, 20000),
                  resolutionunit='CENTIMETER', metadata=None)
    overwrite_tags(out, {0: {'Predictor': 3, 'SampleFormat': 3}})
    assert np.array_equal(vips_decode(out, 'tiffload')[:, :, 0], data), 'predictor 3 encoding'
    arr = data[:, :, None]
    describe(out.name, format='tiff', lossy=False, fill=0, mpp=0.5, levels=[[w, h]],
             regions=pyramid_refs([arr], 0, lossy=False))


# --------------------------------------------------------------------------
# Plain images: strip TIFFs, PNG, JPEG, WebP.
# --------------------------------------------------------------------------

def make_plain(small: Path, small_arr: np.ndarray, big_arr: np.ndarray) -> None:
    out = OUT / 'plain-strip-packbits.tif'
    vips('tiffsave', small, out, '--compression', 'packbits', '--xres', 40, '--yres', 40)
    arr = tifffile.imread(out)
    assert np.array_equal(arr, small_arr)
    describe(out.name, format='tiff', lossy=False, fill=255, mpp=25.0, levels=[[250, 170]],
             regions=pyramid_refs([arr], 255, lossy=False))

    # Uncompressed planar strips (read in bands of rows across strips).
    out = OUT / 'plain-strip-raw-planar.tif'
    crop = small_arr[20:110, 30:150]
    tifffile.imwrite(out, np.moveaxis(crop, 2, 0), photometric='rgb', planarconfig='separate', rowsperstrip=7,
                     metadata=None)
    assert np.array_equal(np.moveaxis(tifffile.imread(out), 0, 2), crop)
    describe(out.name, format='tiff', lossy=False, fill=255, levels=[[120, 90]],
             regions=pyramid_refs([crop], 255, lossy=False))

    # Palette (colour map) image, 8-bit indices.
    out = OUT / 'plain-palette.tif'
    indices = ((np.arange(48)[:, None] // 6 + np.arange(64)[None, :] // 8) % 16).astype(np.uint8)
    colormap = np.zeros((3, 256), np.uint16)
    colormap[:, :16] = np.array([[(i * 4111 * (c + 1)) % 65536 for i in range(16)] for c in range(3)])
    tifffile.imwrite(out, indices, photometric='palette', colormap=colormap, metadata=None)
    rgb = np.stack([colormap[c][indices] >> 8 for c in range(3)], axis=2).astype(np.uint8)
    describe(out.name, format='tiff', lossy=False, fill=255, levels=[[64, 48]],
             regions=[region_ref(rgb, 0, 0, 0, 64, 48, 255, False)])

    # 16-bit grey, big-endian, Deflate tag 32946, horizontal predictor.
    out = OUT / 'plain-gray16-be.tif'
    grey = ome_channels(120, 160)[1]
    tifffile.imwrite(out, grey, byteorder='>', compression='zlib', predictor=2, rowsperstrip=25,
                     metadata=None)
    with tifffile.TiffFile(out, mode='r+b') as tif:
        tif.pages[0].tags['Compression'].overwrite(32946)
    assert np.array_equal(tifffile.imread(out), grey)
    describe(out.name, format='tiff', lossy=False, fill=0, levels=[[160, 120]],
             regions=pyramid_refs([grey[:, :, None]], 0, lossy=False))

    # Larger plain images so that the synthetic pyramid gets levels (> 1024 px).
    # Synthetic but structured RGB: compresses to little, exercises the averaging.
    yy, xx = np.mgrid[0:300, 0:1500]
    wide = np.stack([(xx * 7 + yy * 3) % 256, (xx // 3 + (yy * yy) // 50) % 256,
                     ((xx // 40 + yy // 40) % 2) * 200 + 30], axis=2).astype(np.uint8)
    out = OUT / 'plain-wide.png'
    Image.fromarray(wide).save(out, optimize=True)
    levels = [wide]
    while max(levels[-1].shape[:2]) > 1024:
        levels.append(downsample2(levels[-1]))
    describe(out.name, format='png', lossy=False, fill=255, levels=[list(a.shape[1::-1]) for a in levels],
             regions=[region_ref(levels[0], 0, 690, 250, 40, 40, 255, False),
                      region_ref(levels[1], 1, 0, 0, levels[1].shape[1], levels[1].shape[0], 255, False),
                      region_ref(levels[1], 1, 700, 120, 60, 60, 255, False)])

    out = OUT / 'plain-gray16.png'
    Image.fromarray(grey.astype(np.uint16)).save(out)
    png16 = np.asarray(Image.open(out)).astype(np.uint16)
    assert np.array_equal(png16, grey)
    describe(out.name, format='png', lossy=False, fill=0, levels=[[160, 120]],
             regions=pyramid_refs([grey[:, :, None]], 0, lossy=False))

    out = OUT / 'plain.jpg'
    out.write_bytes(jpeg_bytes(small_arr, quality=90))
    decoded = np.asarray(Image.open(out))
    describe(out.name, format='jpeg', lossy=True, fill=255, levels=[[250, 170]],
             regions=[region_ref(decoded, 0, 100, 50, 48, 48, 255, True),
                      region_ref(decoded, 0, 220, 140, 48, 40, 255, True)])

    out = OUT / 'plain.webp'
    Image.fromarray(small_arr[:48, :64]).save(out, 'WEBP', lossless=True)
    describe(out.name, format='webp', lossy=False, fill=255, levels=[[64, 48]],
             regions=[region_ref(small_arr[:48, :64], 0, 0, 0, 64, 48, 255, False)])


# --------------------------------------------------------------------------
# Bad input.
# --------------------------------------------------------------------------

def minimal_tiff(width: int, height: int, tile: int | None = None, compression: int = 1) -> bytes:
    """A classic little-endian TIFF with LONG dimensions and one 16-byte chunk."""
    entries = [
        (256, 4, 1, width), (257, 4, 1, height), (258, 3, 1, 8), (259, 3, 1, compression),
        (262, 3, 1, 1), (277, 3, 1, 1),
    ]
    data_offset = 8
    if tile:
        entries += [(322, 3, 1, tile), (323, 3, 1, tile), (324, 4, 1, data_offset), (325, 4, 1, 16)]
    else:
        entries += [(273, 4, 1, data_offset), (278, 4, 1, height), (279, 4, 1, 16)]
    entries.sort()
    ifd_offset = data_offset + 16
    ifd = struct.pack('<H', len(entries))
    for tag, typ, count, value in entries:
        packed = struct.pack('<H', value) + b'\0\0' if typ == 3 else struct.pack('<I', value)
        ifd += struct.pack('<HHI', tag, typ, count) + packed
    ifd += struct.pack('<I', 0)
    return b'II*\0' + struct.pack('<I', ifd_offset) + bytes(16) + ifd


def png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack('>I', len(body)) + kind + body + struct.pack('>I', zlib.crc32(kind + body))
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    return b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IEND', b'')


def make_bad() -> None:
    bad = {}
    (OUT / 'empty.tif').write_bytes(b'')
    bad['empty.tif'] = 'the file is empty (0 bytes)'

    rng = np.random.default_rng(3)
    (OUT / 'random.txt').write_bytes(b'This is a note, not a slide.\n' + rng.integers(0, 256, 2000, np.uint8).tobytes())
    bad['random.txt'] = 'not a recognised slide or image format'

    # Half of a vips pyramid: its IFDs live at the end, so the header points past EOF.
    src = (OUT / 'cmu-jpeg.tif').read_bytes()
    (OUT / 'truncated-half.tif').write_bytes(src[:len(src) // 2])
    bad['truncated-half.tif'] = 'truncated'

    # A tifffile TIFF (IFD first, then tiles) cut inside its tile data: it
    # opens, the first tiles decode, the last ones are missing.
    whole = TMP / 'cut.tif'
    tifffile.imwrite(whole, ome_channels(256, 256)[0], tile=(64, 64), metadata=None)
    with tifffile.TiffFile(whole) as tif:
        offsets = tif.pages[0].dataoffsets
    cut = whole.read_bytes()[:offsets[-1] + 100]
    (OUT / 'truncated-tiles.tif').write_bytes(cut)
    describe('truncated-tiles.tif', lastTile=len(offsets) - 1, tilesAcross=4,
             firstTile=region_ref(ome_channels(256, 256)[0][:, :, None], 0, 0, 0, 64, 64, 0, False))

    # A JPEG tile whose SOI marker is destroyed (in a one-level JPEG TIFF).
    jpeg_tiled = TMP / 'jpeg-tiled.tif'
    vips('tiffsave', TMP / 'small.v', jpeg_tiled, '--tile', '--compression', 'jpeg', '--Q', 50,
         '--tile-width', 64, '--tile-height', 64)
    data = bytearray(jpeg_tiled.read_bytes())
    with tifffile.TiffFile(jpeg_tiled) as tif:
        offset = tif.pages[0].dataoffsets[5]
    data[offset:offset + 2] = b'\0\0'
    (OUT / 'corrupt-tile.tif').write_bytes(bytes(data))
    describe('corrupt-tile.tif', badTile=5, tilesAcross=4)

    (OUT / 'jpegxr.tif').write_bytes(minimal_tiff(64, 64, compression=34892))
    bad['jpegxr.tif'] = 'JPEG-XR compression (34892) is not supported'

    (OUT / 'bomb.tif').write_bytes(minimal_tiff(4_000_000, 4_000_000))
    bad['bomb.tif'] = 'declares 4000000 × 4000000 px, beyond the 1000000 px limit'
    (OUT / 'tile-bomb.tif').write_bytes(minimal_tiff(999_984, 999_984, tile=16))
    bad['tile-bomb.tif'] = 'declares 3906125001 tiles, beyond the 50000000 tile limit'
    (OUT / 'bomb.png').write_bytes(png_header_only(30000, 30000))
    bad['bomb.png'] = 'declares 30000 × 30000 px, beyond the 268435456 px limit for an image decoded whole'
    reference['bad'] = bad


# --------------------------------------------------------------------------
# The two real slides (read from ../shared/data, not copied).
# --------------------------------------------------------------------------

def make_real() -> None:
    level0 = drop_alpha(vips_decode(SVS, 'openslideload', '--level', 0))
    levels = [level0, downsample2(level0), downsample2(downsample2(level0))]
    regions = [
        region_ref(level0, 0, 940, 1410, 64, 56, 255, True),     # across 240-px tile borders
        region_ref(level0, 0, 2190, 2940, 48, 40, 255, True),    # past the bottom-right corner
        region_ref(level0, 0, 0, 0, 2220, 2967, 255, False),
        region_ref(levels[1], 1, 500, 700, 60, 60, 255, True),
        region_ref(levels[2], 2, 0, 0, 555, 742, 255, False),
        region_ref(levels[2], 2, 300, 400, 60, 60, 255, True),
    ]
    associated = {}
    # vips 8.14's openslideload --associated crashes here; python3-openslide works.
    import openslide
    slide = openslide.OpenSlide(str(SVS))
    for name in ('thumbnail', 'label', 'macro'):
        arr = np.asarray(slide.associated_images[name].convert('RGB'))
        h, w = arr.shape[:2]
        associated[name] = {'width': w, 'height': h, 'means': [float(arr[:, :, c].mean()) for c in range(3)],
                            'crop': region_ref(arr, -1, w // 2 - 24, h // 2 - 24, 48, 48, 255, True)}
    reference['real'] = {'svs': {'file': SVS.name, 'regions': regions, 'associated': associated}}

    ndpi_regions = []
    for level in range(4):
        arr = drop_alpha(vips_decode(NDPI, 'openslideload', '--level', level))
        h, w = arr.shape[:2]
        ndpi_regions.append(region_ref(arr, level, w // 2 - 24, h // 3 - 24, 48, 48, 0, True))
        ndpi_regions.append(region_ref(arr, level, 0, 0, w, h, 0, False))
    reference['real']['ndpi'] = {'file': NDPI.name, 'regions': ndpi_regions}


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    big, big_arr, small, small_arr = make_crops()
    make_vips_pyramids(big, small)
    make_svs_j2k(big_arr, small)
    make_ome()
    make_float()
    make_plain(small, small_arr, big_arr)
    make_bad()
    if SVS.exists() and NDPI.exists():
        make_real()
    (OUT / 'reference.json').write_text(json.dumps(reference, indent=1, ensure_ascii=False) + '\n')
    total = sum(p.stat().st_size for p in OUT.iterdir())
    for p in sorted(OUT.iterdir()):
        print(f'{p.stat().st_size:>9}  {p.name}')
    print(f'{total:>9}  total')
    shutil.rmtree(TMP)


if __name__ == '__main__':
    main()
