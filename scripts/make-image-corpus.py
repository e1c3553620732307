#!/usr/bin/python3
"""Writes tests/fixtures/images-corpus/: small image files made by tools other than sharp (Pillow,
ImageMagick, libwebp's cwebp) and manifest.json, the outcome each must have through the engine's decode
path (src-main/engine/data/image-decode.ts), with references computed by Pillow (LittleCMS for ICC
profiles). Run from the repository root: /usr/bin/python3 scripts/make-image-corpus.py
Needs: python3-pil, imagemagick (convert), webp (cwebp), ghostscript's ICC profiles (/usr/share/color/icc).

Conventions the manifest encodes (ConvScope's rules, docs/ARCHITECTURE.md "Image decoding"):
- pixels are 8-bit sRGB as displayed: EXIF orientation applied, ICC profiles converted to sRGB, CMYK
  through an ICC profile, 16-bit scaled to 8-bit;
- transparent pixels are composited on white (training on folder datasets and inspection alike);
- multi-frame files (animated GIF / WebP, multi-page TIFF) give their first frame;
- SVG and formats the decoder does not read are refused by their content, whatever the file's extension;
- a header claiming more than the pixel limit is refused before any pixel is decoded.
"""
import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

import PIL
from PIL import Image, ImageCms, ImageOps

OUT = os.path.join('tests', 'fixtures', 'images-corpus')
ICC_DIR = '/usr/share/color/icc/ghostscript'
W, H = 48, 32  # a 3 x 2 grid of 16 x 16 cells (aligned to JPEG's MCUs, so JPEG keeps flat colours)
COLOURS = [(200, 30, 30), (30, 160, 40), (40, 60, 210), (230, 200, 40), (140, 40, 170), (30, 190, 190)]
GREYS = [20, 60, 100, 140, 180, 230]
ALPHAS = [255, 0, 128, 255, 0, 64]

entries = []
tmp = tempfile.mkdtemp()


def version(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True).stdout + subprocess.run(cmd, capture_output=True, text=True).stderr
    return out.strip().splitlines()[0] if out.strip() else cmd[0]


PIL_NAME = f'Pillow {PIL.__version__}'
IM_NAME = ' '.join(version(['convert', '-version']).split()[1:3])  # "ImageMagick 6.9.11-60"
CWEBP_NAME = 'cwebp ' + version(['cwebp', '-version'])


def grid(mode, values):
    img = Image.new(mode, (W, H))
    for i, v in enumerate(values):
        x, y = (i % 3) * 16, (i // 3) * 16
        img.paste(v, (x, y, x + 16, y + 16))
    return img


def on_white(img):
    """What the engine must give: RGB, transparency composited on white."""
    if img.mode in ('RGBA', 'LA', 'PA') or (img.mode == 'P' and 'transparency' in img.info) or 'transparency' in img.info:
        rgba = img.convert('RGBA')
        white = Image.new('RGBA', rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert('RGB')
    return img.convert('RGB')


def reference(img):
    rgb = on_white(img)
    w, h = rgb.size
    px = rgb.load()
    n = w * h
    mean = [round(sum(px[x, y][c] for y in range(h) for x in range(w)) / n, 2) for c in range(3)]
    xs = range(8, w, 16) if w >= 16 else [w // 2]
    ys = range(8, h, 16) if h >= 16 else [h // 2]
    samples = [[x, y, list(px[x, y])] for y in ys for x in xs]
    side = min(w, h)  # the centre square a folder dataset stores (scaled)
    left, top = (w - side) // 2, (h - side) // 2
    square = [round(sum(px[x, y][c] for y in range(top, top + side) for x in range(left, left + side)) / side**2, 2) for c in range(3)]
    return {'width': w, 'height': h, 'mean': mean, 'squareMean': square, 'samples': samples}


def add(name, made, ref_img=None, error=None, tol=None, note=None, grey=None):
    size = os.path.getsize(os.path.join(OUT, name))
    e = {'file': name, 'bytes': size, 'made': made}
    if error is not None:
        e['expect'] = 'error'
        e['error'] = error
    else:
        e['expect'] = 'pixels'
        e.update(reference(ref_img))
        e['tolerance'] = tol or {'mean': 2, 'sample': 4}
        if grey is not None:
            e['grey'] = grey  # exact grey levels expected at the samples when decoded to 1 channel
    if note:
        e['note'] = note
    entries.append(e)


def path(name):
    return os.path.join(OUT, name)


def im(*args):
    # no date chunks, so that running the script again writes the same bytes
    subprocess.run(['convert', *args[:-1], '-define', 'png:exclude-chunks=date,time', '+set', 'date:create', '+set', 'date:modify', args[-1]], check=True)


def icc(name):
    with open(os.path.join(ICC_DIR, name), 'rb') as f:
        return f.read()


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    rgb = grid('RGB', COLOURS)
    grey = grid('L', GREYS)
    rgba = rgb.convert('RGBA')
    rgba.putalpha(grid('L', ALPHAS))
    base_png = os.path.join(tmp, 'base.png')
    rgb.save(base_png)

    # PNG
    rgb.save(path('png-rgb8.png'))
    add('png-rgb8.png', PIL_NAME, rgb)
    im(base_png, '-depth', '16', 'PNG48:' + path('png-rgb16.png'))
    add('png-rgb16.png', IM_NAME + ' -depth 16 (48-bit RGB)', rgb)
    grey.save(path('png-grey8.png'))
    add('png-grey8.png', PIL_NAME, grey, grey=GREYS)
    grey16 = Image.frombytes('I;16', (W, H), b''.join(struct.pack('<H', grey.getpixel((x, y)) * 257) for y in range(H) for x in range(W)))
    grey16.save(path('png-grey16.png'))
    add('png-grey16.png', PIL_NAME + ' (I;16)', grey, grey=GREYS)
    la = Image.merge('LA', (grey, grid('L', ALPHAS)))
    la.save(path('png-grey-alpha.png'))
    add('png-grey-alpha.png', PIL_NAME + ' (LA)', la, note='transparent pixels become white')
    pal = Image.new('P', (W, H))
    pal.putpalette([c for col in COLOURS for c in col])
    for i in range(6):
        pal.paste(i, ((i % 3) * 16, (i // 3) * 16, (i % 3) * 16 + 16, (i // 3) * 16 + 16))
    pal.save(path('png-palette-trns.png'), transparency=bytes([255, 0, 255, 128, 255, 255]))
    add('png-palette-trns.png', PIL_NAME + ' (palette, tRNS)', Image.open(path('png-palette-trns.png')), note='tRNS entries 0 and 128: white and half white')
    im(base_png, '-interlace', 'PNG', path('png-interlaced.png'))
    add('png-interlaced.png', IM_NAME + ' -interlace PNG (Adam7)', rgb)
    rgba.save(path('png-rgba-transparent.png'))
    add('png-rgba-transparent.png', PIL_NAME + ' (RGBA, colour under alpha 0)', rgba, note='transparent pixels become white')
    Image.new('RGB', (1, 1), (12, 34, 56)).save(path('png-1x1.png'))
    add('png-1x1.png', PIL_NAME, Image.new('RGB', (1, 1), (12, 34, 56)))
    rgb.save(path('png-named-jpg.jpg'), format='PNG')
    add('png-named-jpg.jpg', PIL_NAME + ' (a PNG named .jpg)', rgb)
    prophoto = ImageCms.ImageCmsProfile(io.BytesIO(icc('rommrgb.icc')))
    srgb = ImageCms.createProfile('sRGB')
    rgb.save(path('png-icc-prophoto.png'), icc_profile=icc('rommrgb.icc'))
    add('png-icc-prophoto.png', PIL_NAME + ' + ghostscript rommrgb.icc (ProPhoto RGB)', ImageCms.profileToProfile(rgb, prophoto, srgb, renderingIntent=1), tol={'mean': 3, 'sample': 6}, note='converted from its ProPhoto profile to sRGB')

    # JPEG
    rgb.save(path('jpeg-baseline-444.jpg'), quality=95, subsampling=0)
    add('jpeg-baseline-444.jpg', PIL_NAME + ' q95 4:4:4', rgb, tol={'mean': 2, 'sample': 5})
    rgb.save(path('jpeg-baseline-420.jpg'), quality=95, subsampling=2)
    add('jpeg-baseline-420.jpg', PIL_NAME + ' q95 4:2:0', rgb, tol={'mean': 3, 'sample': 8})
    im(base_png, '-quality', '95', '-interlace', 'JPEG', '-sampling-factor', '2x2', path('jpeg-progressive.jpg'))
    add('jpeg-progressive.jpg', IM_NAME + ' -interlace JPEG (progressive) 4:2:0', rgb, tol={'mean': 3, 'sample': 8})
    grey.save(path('jpeg-grey.jpg'), quality=95)
    add('jpeg-grey.jpg', PIL_NAME + ' (L)', grey, tol={'mean': 2, 'sample': 4}, grey=GREYS)
    cmyk_profile = ImageCms.ImageCmsProfile(io.BytesIO(icc('default_cmyk.icc')))
    cmyk = ImageCms.profileToProfile(rgb, srgb, cmyk_profile, outputMode='CMYK', renderingIntent=1)
    # Pillow writes Adobe APP14 with inverted CMYK (as Photoshop does); most real CMYK files embed their profile.
    cmyk.save(path('jpeg-cmyk-adobe.jpg'), quality=95, icc_profile=icc('default_cmyk.icc'))
    cmyk_ref = ImageCms.profileToProfile(cmyk, cmyk_profile, srgb, outputMode='RGB', renderingIntent=0)  # a LUT profile: its perceptual table
    add('jpeg-cmyk-adobe.jpg', PIL_NAME + ' (CMYK, Adobe APP14 inverted) + ghostscript default_cmyk.icc', cmyk_ref, tol={'mean': 3, 'sample': 8},
        note='converted to sRGB through its own CMYK profile')
    im(path('jpeg-cmyk-adobe.jpg'), '-quality', '95', '-define', 'jpeg:colorspace=11', path('jpeg-ycck.jpg'))
    add('jpeg-ycck.jpg', IM_NAME + ' -define jpeg:colorspace=11 (YCCK, Adobe transform 2), profile kept', cmyk_ref, tol={'mean': 3, 'sample': 8})
    cmyk.save(path('jpeg-cmyk-noprofile.jpg'), quality=95)
    add('jpeg-cmyk-noprofile.jpg', PIL_NAME + ' (CMYK, Adobe APP14 inverted, no profile)', cmyk_ref, tol={'mean': 40, 'sample': 60},
        note='no profile: a generic CMYK profile gives roughly these colours; an inverted reading is off by ~200')
    rgb.save(path('jpeg-icc-adobergb.jpg'), quality=95, subsampling=0, icc_profile=icc('a98.icc'))
    a98 = ImageCms.ImageCmsProfile(io.BytesIO(icc('a98.icc')))
    add('jpeg-icc-adobergb.jpg', PIL_NAME + ' + ghostscript a98.icc (Adobe RGB 1998)', ImageCms.profileToProfile(rgb, a98, srgb, renderingIntent=1), tol={'mean': 3, 'sample': 7}, note='converted from Adobe RGB to sRGB')
    for o in range(2, 9):
        exif = Image.Exif()
        exif[0x0112] = o
        name = f'jpeg-exif-orientation-{o}.jpg'
        rgb.save(path(name), quality=95, subsampling=0, exif=exif.tobytes())
        add(name, PIL_NAME + f' (EXIF orientation {o})', ImageOps.exif_transpose(Image.open(path(name))), tol={'mean': 2, 'sample': 5})

    # WebP
    subprocess.run(['cwebp', '-quiet', '-q', '95', base_png, '-o', path('webp-lossy.webp')], check=True)
    add('webp-lossy.webp', CWEBP_NAME + ' -q 95', rgb, tol={'mean': 3, 'sample': 10})
    subprocess.run(['cwebp', '-quiet', '-lossless', base_png, '-o', path('webp-lossless.webp')], check=True)
    add('webp-lossless.webp', CWEBP_NAME + ' -lossless', rgb)
    rgba.save(path('webp-alpha.webp'), lossless=True)
    add('webp-alpha.webp', PIL_NAME + ' (lossless RGBA)', rgba, note='transparent pixels become white')
    second = grid('RGB', list(reversed(COLOURS)))
    rgb.save(path('webp-animated.webp'), save_all=True, append_images=[second], duration=100, loop=0, lossless=True)
    add('webp-animated.webp', PIL_NAME + ' (2 frames)', rgb, note='first frame')

    # GIF, BMP, TIFF, AVIF, HEIC
    rgb.save(path('gif-animated.gif'), save_all=True, append_images=[second], duration=100, loop=0)
    add('gif-animated.gif', PIL_NAME + ' (2 frames)', rgb, note='first frame')
    pal.save(path('gif-transparent.gif'), transparency=1)
    add('gif-transparent.gif', PIL_NAME + ' (transparent index)', Image.open(path('gif-transparent.gif')), note='transparent pixels become white')
    rgb.save(path('bmp-rgb24.bmp'))
    add('bmp-rgb24.bmp', PIL_NAME, error='BMP images are not read')
    rgb.save(path('tiff-rgb.tif'), compression='tiff_deflate')
    add('tiff-rgb.tif', PIL_NAME + ' (deflate)', rgb)
    rgb.save(path('tiff-multipage.tif'), save_all=True, append_images=[second], compression='tiff_deflate')
    add('tiff-multipage.tif', PIL_NAME + ' (2 pages)', rgb, note='first page')
    im(base_png, '-quality', '90', path('avif-rgb.avif'))
    add('avif-rgb.avif', IM_NAME + ' (libheif, AV1)', rgb, tol={'mean': 4, 'sample': 12})
    try:
        im(base_png, '-quality', '90', path('heic-rgb.heic'))
        add('heic-rgb.heic', IM_NAME + ' (libheif, HEVC)', error='HEIC')
    except subprocess.CalledProcessError:
        print('no HEIC encoder here: heic-rgb.heic not made', file=sys.stderr)

    # SVG: refused by content, whatever its name; the second one points at a file outside.
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="48" height="32"><rect width="48" height="32" fill="#c81e1e"/></svg>\n'
    with open(path('svg-plain.svg'), 'w') as f:
        f.write(svg)
    add('svg-plain.svg', 'hand-written', error='SVG images are not read')
    outside = ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="48" height="32">'
               '<image width="48" height="32" xlink:href="../../../../../../../../etc/hosts"/>'
               '<image width="48" height="32" xlink:href="file:///usr/share/pixmaps/debian-logo.png"/></svg>\n')
    with open(path('svg-external-named-png.png'), 'w') as f:
        f.write(outside)
    add('svg-external-named-png.png', 'hand-written (references files outside)', error='SVG images are not read')

    with open(path('svgz-gzipped.svgz'), 'wb') as f:
        f.write(gzip.compress(svg.encode(), mtime=0))
    add('svgz-gzipped.svgz', 'gzip of svg-plain.svg', error='SVG images are not read')
    heic = bytearray(open(path('heic-rgb.heic'), 'rb').read())
    size = struct.unpack('>I', heic[:4])[0]
    heic[8:12] = b'mif1'  # major brand, then every compatible brand: nothing in the ftyp box says HEVC
    for at in range(16, size, 4):
        heic[at:at + 4] = b'mif1'
    with open(path('heif-hevc-mif1.heif'), 'wb') as f:
        f.write(heic)
    add('heif-hevc-mif1.heif', 'heic-rgb.heic with only the generic mif1 brand', error='HEIC (HEVC) images are not read')

    # Hostile: bombs, empty, text, truncated.
    ihdr = struct.pack('>IIBBBBB', 30000, 30000, 8, 2, 0, 0, 0)
    raw = zlib.compress(b'\x00' * (1 + 30000 * 3) * 2, 9)  # two rows of pixel data; the header claims 30000

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data) & 0xffffffff)

    with open(path('bomb-png-30000x30000.png'), 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', raw) + chunk(b'IEND', b''))
    add('bomb-png-30000x30000.png', 'hand-made header (30000x30000, two rows of data)', error='image is 30000x30000 (900,000,000 pixels), over the limit of 100,000,000 pixels')
    jpeg = bytearray(open(path('jpeg-baseline-444.jpg'), 'rb').read())
    sof = jpeg.index(b'\xff\xc0')
    jpeg[sof + 5:sof + 9] = struct.pack('>HH', 60000, 60000)
    with open(path('bomb-jpeg-60000x60000.jpg'), 'wb') as f:
        f.write(jpeg)
    add('bomb-jpeg-60000x60000.jpg', 'jpeg-baseline-444.jpg with its SOF0 size patched', error='image is 60000x60000 (3,600,000,000 pixels), over the limit')
    open(path('empty.png'), 'wb').close()
    add('empty.png', '0 bytes', error='empty file')
    with open(path('text-named.png'), 'w') as f:
        f.write('this is a text file, not an image\n')
    add('text-named.png', 'text', error='not a recognised image format')
    for src in ['png-rgb8.png', 'png-interlaced.png', 'jpeg-baseline-420.jpg', 'jpeg-progressive.jpg', 'webp-lossy.webp', 'webp-lossless.webp', 'gif-transparent.gif', 'tiff-rgb.tif', 'avif-rgb.avif']:
        data = open(path(src), 'rb').read()
        stem, ext = os.path.splitext(src)
        name = f'truncated-{stem}{ext}'
        with open(path(name), 'wb') as f:
            f.write(data[: len(data) * 6 // 10])
        add(name, f'{src} cut to 60%', error='corrupt or truncated image')
    data = open(path('gif-animated.gif'), 'rb').read()
    with open(path('truncated-gif-second-frame.gif'), 'wb') as f:
        f.write(data[: len(data) * 6 // 10])
    add('truncated-gif-second-frame.gif', 'gif-animated.gif cut to 60%, inside its second frame', rgb, note='the first frame is whole, and is the one read')
    with open(path('truncated-header-only.jpg'), 'wb') as f:
        f.write(jpeg[: jpeg.index(b'\xff\xda')])
    add('truncated-header-only.jpg', 'jpeg-baseline-444.jpg cut before its scan', error='corrupt or truncated image')

    entries.sort(key=lambda e: e['file'])
    manifest = {
        'about': 'Expected outcome of each file through src-main/engine/data/image-decode.ts. Made by scripts/make-image-corpus.py; do not edit by hand.',
        'rules': {
            'pixels': '8-bit sRGB as displayed: EXIF orientation applied, ICC profiles and CMYK converted to sRGB, 16-bit scaled',
            'transparency': 'composited on white',
            'frames': 'first frame or page',
            'samples': '[x, y, [r, g, b]] in the displayed image; mean per channel over the whole image',
            'squareMean': 'mean per channel of the central square (what a folder dataset stores, scaled)',
        },
        'files': entries,
    }
    with open(path('manifest.json'), 'w') as f:
        # one file per line: readable diffs when the corpus changes
        head = json.dumps({k: v for k, v in manifest.items() if k != 'files'}, indent=1)[:-2]
        f.write(head + ',\n "files": [\n' + ',\n'.join('  ' + json.dumps(e) for e in entries) + '\n ]\n}\n')
    total = sum(os.path.getsize(path(n)) for n in os.listdir(OUT))
    print(f'{len(entries)} files, {total} bytes in {OUT}')


main()
