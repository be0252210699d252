#!/usr/bin/python3
"""Reference data for the NDPI reader and the JPEG restart-interval surgery.

Run with Debian's python (it has numpy, PIL, tifffile, python3-openslide,
brotli) from the repository root:

    /usr/bin/python3 scripts/make_ndpi_reference.py

Writes tests/fixtures/ndpi/:
  restart-*.jpg   small synthetic JPEGs with restart markers (made by vips
                  jpegsave --restart-interval), with their PIL decodes summarised
                  in reference.json, for src/slide/codecs/jpeg-restart.test.ts;
  *.rgb.br        brotli-compressed RGB pixels decoded by OpenSlide;
  reference.json  metadata (OpenSlide + tifffile) and per-region summaries.

Large references (the whole level 3, the macro) are stored as 4x4 block means
plus full-resolution per-channel sums and sha256, which keeps the folder small.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

import brotli
import numpy as np
import openslide
import tifffile
from PIL import Image

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'tests', 'fixtures', 'ndpi')
SLIDE = os.path.join(os.path.dirname(ROOT), 'shared', 'data', 'test3-DAPI-2-387.ndpi')
BLOCK = 4


def summary(rgb):
    return {
        'sha256': hashlib.sha256(np.ascontiguousarray(rgb).tobytes()).hexdigest(),
        'channelSums': [int(rgb[..., c].sum(dtype=np.int64)) for c in range(rgb.shape[2])],
    }


def write_br(name, rgb):
    with open(os.path.join(OUT, name), 'wb') as f:
        f.write(brotli.compress(np.ascontiguousarray(rgb).tobytes(), quality=11))


def block_means(rgb, block):
    """Mean of each block x block cell; partial cells at the right/bottom edge
    average the pixels they have (same rule as the test)."""
    h, w, c = rgb.shape
    bh, bw = -(-h // block), -(-w // block)
    out = np.zeros((bh, bw, c), np.float64)
    for by in range(bh):
        for bx in range(bw):
            cell = rgb[by * block:(by + 1) * block, bx * block:(bx + 1) * block].astype(np.float64)
            out[by, bx] = cell.reshape(-1, c).mean(0)
    return out


def synthetic_image(width, height, channels, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    planes = []
    for c in range(channels):
        base = 128 + 90 * np.sin(x / (5.0 + 3 * c)) * np.cos(y / (7.0 + 2 * c))
        base += 40 * ((x + 2 * y + 17 * c) % 23 > 11)
        base += rng.normal(0, 12, size=base.shape)
        planes.append(np.clip(base, 0, 255).astype(np.uint8))
    return np.stack(planes, -1)


# (file, width, height, channels, vips subsample mode, restart interval in MCUs)
JPEG_FIXTURES = [
    # 4:4:4, 8x8 MCUs, one interval per MCU row (the NDPI layout); 100 px wide
    # is 13 MCUs with a partial last column, 37 rows a partial last MCU row.
    ('restart-444-row.jpg', 100, 37, 3, 'off', 13),
    # 4:2:0, 16x16 MCUs, three intervals of 2 MCUs per MCU row (92 px = 6 MCUs).
    ('restart-420-part.jpg', 92, 45, 3, 'on', 2),
    # 4:4:4, intervals spanning two whole MCU rows (5 MCUs per row, interval 10).
    ('restart-444-tworows.jpg', 40, 37, 3, 'off', 10),
    # 4:4:4 with three intervals of 5 MCUs per row (120 px = 15 MCUs): the
    # layout of big NDPI level-0 JPEGs, used to build a synthetic NDPI.
    ('restart-444-part.jpg', 120, 50, 3, 'off', 5),
    # Greyscale, one component: non-interleaved scan, 8x8 MCUs, 4 MCUs each.
    ('restart-grey.jpg', 64, 24, 1, 'off', 4),
]


def make_jpeg_fixtures():
    entries = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed, (name, w, h, ch, subsample, interval) in enumerate(JPEG_FIXTURES):
            img = synthetic_image(w, h, ch, seed)
            png = os.path.join(tmp, name + '.png')
            Image.fromarray(img[..., 0] if ch == 1 else img).save(png)
            dst = os.path.join(OUT, name)
            subprocess.run(
                ['vips', 'jpegsave', png, dst, '--Q', '85', '--strip',
                 '--subsample-mode', subsample, '--restart-interval', str(interval)],
                check=True)
            decoded = np.asarray(Image.open(dst))
            if decoded.ndim == 2:
                decoded = decoded[..., None]
            data = open(dst, 'rb').read()
            entries.append({
                'file': name, 'width': w, 'height': h, 'channels': ch,
                'restartInterval': interval,
                'restartMarkers': sum(1 for i in range(len(data) - 1)
                                      if data[i] == 0xFF and 0xD0 <= data[i + 1] <= 0xD7),
                'pil': summary(decoded),
            })
    return entries


def rgb_of(image):
    return np.ascontiguousarray(np.asarray(image.convert('RGBA'))[..., :3])


def make_slide_references():
    slide = openslide.OpenSlide(SLIDE)
    props = dict(slide.properties)
    regions = []

    def add_region(name, level, x, y, width, height, store):
        ds = slide.level_downsamples[level]
        # OpenSlide takes the top-left corner in level-0 coordinates.
        rgb = rgb_of(slide.read_region((int(x * ds), int(y * ds)), level, (width, height)))
        entry = {'name': name, 'level': level, 'x': x, 'y': y, 'width': width, 'height': height}
        entry.update(summary(rgb))
        if store == 'raw':
            entry['file'] = f'{name}.rgb.br'
            entry['encoding'] = 'rgb'
            write_br(entry['file'], rgb)
        else:
            entry['file'] = f'{name}.mean{BLOCK}.br'
            entry['encoding'] = f'blockmean{BLOCK}'
            write_br(entry['file'], np.round(block_means(rgb, BLOCK)).astype(np.uint8))
        regions.append(entry)

    # Level 0, in the middle, aligned to neither the 8-row intervals nor MCUs.
    add_region('l0-1000-1500', 0, 1000, 1500, 300, 200, 'raw')
    # Level 1 across the right edge (where there are nuclei): OpenSlide gives 0 outside.
    add_region('l1-edge', 1, 1910, 1903, 130, 70, 'raw')
    # Level 2, a viewer-sized piece.
    add_region('l2-403-297', 2, 403, 297, 256, 192, 'raw')
    # Level 3, whole.
    add_region('l3-full', 3, 0, 0, 496, 608, 'mean')

    macro = rgb_of(slide.associated_images['macro'])
    entry = {'name': 'macro', 'width': macro.shape[1], 'height': macro.shape[0]}
    entry.update(summary(macro))
    entry['file'] = f'macro.mean{BLOCK}.br'
    entry['encoding'] = f'blockmean{BLOCK}'
    write_br(entry['file'], np.round(block_means(macro, BLOCK)).astype(np.uint8))

    # OpenSlide does not expose the map page; tifffile reads it (uncompressed grey).
    with tifffile.TiffFile(SLIDE) as tif:
        pages = tif.pages
        map_page = next(p for p in pages if p.tags.get(65421) is not None and p.tags[65421].value == -2)
        grey = map_page.asarray()
        map_rgb = np.repeat(grey[..., None], 3, axis=2)
        map_entry = {'name': 'map', 'width': grey.shape[1], 'height': grey.shape[0]}
        map_entry.update(summary(map_rgb))
        page0 = pages[0]
        tif_meta = {
            'pyramidPages': [
                {'width': p.imagewidth, 'height': p.imagelength,
                 'intervals': len(p.tags[65426].value),
                 'stripOffset': int(p.tags[273].value[0]),
                 'stripByteCount': int(p.tags[279].value[0])}
                for p in pages[:4]
            ],
            # Absolute file offsets where some level-0 restart intervals start
            # (tifffile exposes each interval as a tile), for the laziness and
            # corruption tests: rows 1500..1699 are intervals 187..212.
            'level0IntervalStarts': {str(i): int(page0.dataoffsets[i]) for i in (187, 213, 300, 301)},
            'sourceLens': float(page0.tags[65421].value),
            'fluorescence': page0.tags[65434].value,
            'scannerSerial': page0.tags[65442].value,
        }

    levels = [{'width': w, 'height': h, 'downsample': d}
              for (w, h), d in zip(slide.level_dimensions[:4], slide.level_downsamples[:4])]
    return {
        'slide': os.path.basename(SLIDE),
        'fileSize': os.path.getsize(SLIDE),
        'width': slide.dimensions[0],
        'height': slide.dimensions[1],
        'levels': levels,
        'mppX': float(props['openslide.mpp-x']),
        'mppY': float(props['openslide.mpp-y']),
        'objectivePower': float(props['openslide.objective-power']),
        'tiff': tif_meta,
        # Vendor keys as OpenSlide reports them (minus its mangled shading block).
        'hamamatsuProperties': {k: v for k, v in props.items()
                                if k.startswith('hamamatsu.') and not k.startswith('hamamatsu.;')},
        'regions': regions,
        'macro': entry,
        'map': map_entry,
    }


def main():
    os.makedirs(OUT, exist_ok=True)
    reference = {
        'generator': 'scripts/make_ndpi_reference.py (OpenSlide %s via python3-openslide, '
                     'tifffile %s, PIL %s, vips)' % (openslide.__library_version__,
                                                     tifffile.__version__, Image.__version__),
        'blockMeanSize': BLOCK,
        'jpegFixtures': make_jpeg_fixtures(),
    }
    if os.path.exists(SLIDE):
        reference['ndpi'] = make_slide_references()
    else:
        print(f'{SLIDE} is absent: only the synthetic JPEG fixtures were written', file=sys.stderr)
    with open(os.path.join(OUT, 'reference.json'), 'w') as f:
        json.dump(reference, f, indent=1)
        f.write('\n')


if __name__ == '__main__':
    main()
