#!/usr/bin/python3
"""Reference decode of every level-0 tile of a JPEG-tiled TIFF/SVS with Pillow
(native libjpeg-turbo), for bench/run.mjs.

Each tile is rebuilt as a standalone JPEG exactly as Tilescope does it: the shared
JPEGTables are merged in, and an Adobe APP14 marker with transform=0 is added so
the decoder treats the components as RGB (Aperio's "JPEG/RGB" tiles), then decoded
to an RGB array. Prints JSON: {"tiles": n, "threads": t, "runsMs": [...]}.

usage: /usr/bin/python3 bench/reference_decode.py FILE [--runs 7] [--threads 1]
"""
import argparse
import io
import json
import time
from concurrent.futures import ThreadPoolExecutor

import tifffile
from PIL import Image

# APP14 "Adobe", version 100, flags 0/0, transform 0 (no colour transform).
ADOBE_RGB = b'\xff\xee\x00\x0eAdobe\x00\x64\x00\x00\x00\x00\x00'


def tile_streams(path):
    with tifffile.TiffFile(path) as tif, open(path, 'rb') as f:
        page = tif.pages[0]
        if page.compression != 7 or not page.is_tiled:
            raise SystemExit(f'{path}: level 0 is not JPEG-tiled')
        tables = page.tags['JPEGTables'].value if 'JPEGTables' in page.tags else b''
        streams = []
        for offset, count in zip(page.dataoffsets, page.databytecounts):
            f.seek(offset)
            tile = f.read(count)
            # SOI + APP14 + tables (without their SOI/EOI) + the tile after its SOI.
            streams.append(b'\xff\xd8' + ADOBE_RGB + tables[2:-2] + tile[2:])
        return streams


def decode(stream):
    image = Image.open(io.BytesIO(stream))
    image.load()  # Pillow releases the GIL while decoding
    return image.size


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('file')
    parser.add_argument('--runs', type=int, default=7)
    parser.add_argument('--threads', type=int, default=1)
    args = parser.parse_args()
    streams = tile_streams(args.file)
    runs = []
    with ThreadPoolExecutor(max_workers=args.threads) as pool:
        for run in range(args.runs + 1):  # the first run is a warm-up
            start = time.perf_counter()
            if args.threads == 1:
                for s in streams:
                    decode(s)
            else:
                list(pool.map(decode, streams))
            elapsed = (time.perf_counter() - start) * 1000
            if run > 0:
                runs.append(round(elapsed, 3))
    print(json.dumps({'tiles': len(streams), 'threads': args.threads, 'runsMs': runs}))


if __name__ == '__main__':
    main()
