#!/usr/bin/env python3
"""Train the body segmenter (torchvision Mask R-CNN, MobileNetV3 + FPN, from scratch) and export ONNX.

Reproducible: seeded (numpy, torch, workers); the learning rate follows a cosine over a time budget
(--minutes) or an iteration budget (--iters), whichever is given. Works with torch 1.13 /
torchvision 0.14 (Debian) and torch 2.x (export with dynamo=False).

Input contract (what src/segmentation/preprocess.ts feeds the model): one channel, the whole frame
resized (stretched, bilinear) to SIZE x SIZE, values in [0, 1] quantised to 1/255:
  CT: clip((HU + 600) / 1200, 0, 1)    (air, padding and anything below -600 HU read as 0)
  MR: clip(I / p99.5(I), 0, 1)          (p99.5 over the frame's pixels)

Usage (see models/README.md):
  /usr/bin/python3 models/train/train.py --data .devcarry/seg --out /tmp/run --iters 20 --device cpu
"""
import argparse
import json
import math
import os
import random
import time

import numpy as np
import torch
from PIL import Image, ImageDraw
from scipy import ndimage as ndi
from torch import nn
from torchvision.models import mobilenetv3
from torchvision.models.detection import MaskRCNN
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads
from torchvision.ops import MultiScaleRoIAlign
from torchvision.ops.feature_pyramid_network import LastLevelMaxPool

SIZE = 256
CT_LO, CT_HI = -600.0, 600.0


# ----------------------------------------------------------------------------------------- model
class MaskPredictor(nn.Module):
    """Upsamples the mask head's features `ups` times by 2 (1: 28x28 from 14x14 RoIs, ...)."""

    def __init__(self, ch, ups):
        super().__init__()
        layers = []
        for _ in range(ups):
            layers += [nn.ConvTranspose2d(ch, ch, 2, 2), nn.ReLU(inplace=True)]
        self.up = nn.Sequential(*layers)
        self.logits = nn.Conv2d(ch, 2, 1)

    def forward(self, x):
        return self.logits(self.up(x))


def build_model(arch='small', fpn_ch=64, mask_res=28):
    features = mobilenetv3.__dict__[f'mobilenet_v3_{arch}'](weights=None, norm_layer=nn.BatchNorm2d).features
    # One input channel (a windowed intensity), not RGB.
    first = features[0][0]
    features[0][0] = nn.Conv2d(1, first.out_channels, 3, 2, 1, bias=False)
    stages = [0] + [i for i, b in enumerate(features) if getattr(b, '_is_cn', False)] + [len(features) - 1]
    # Last layers at strides 8, 16 and 32 (small: 2, 4, 12; large: 4, 7, 16).
    picked = [stages[2], stages[3], stages[-1]]
    return_layers = {str(k): str(v) for v, k in enumerate(picked)}
    in_ch = [features[k].out_channels for k in picked]
    backbone = BackboneWithFPN(features, return_layers, in_ch, fpn_ch, extra_blocks=LastLevelMaxPool())
    n_maps = len(picked) + 1
    anchors = AnchorGenerator(
        sizes=tuple((s,) for s in (32, 64, 128, 256)[:n_maps]),
        aspect_ratios=((0.33, 0.5, 1.0, 2.0, 3.0),) * n_maps,
    )
    names = [str(v) for v in range(len(picked))]
    box_pool = MultiScaleRoIAlign(names, 7, 2)
    mask_pool_size = 14 if mask_res == 28 else 28
    ups = int(round(math.log2(mask_res / mask_pool_size)))
    mask_pool = MultiScaleRoIAlign(names, mask_pool_size, 2)
    model = MaskRCNN(
        backbone,
        num_classes=None,
        min_size=SIZE,
        max_size=SIZE,
        image_mean=[0.0],
        image_std=[1.0],
        rpn_anchor_generator=anchors,
        box_roi_pool=box_pool,
        box_head=TwoMLPHead(fpn_ch * 49, 256),
        box_predictor=FastRCNNPredictor(256, 2),
        box_detections_per_img=8,
        box_score_thresh=0.05,
        rpn_pre_nms_top_n_test=200,
        rpn_post_nms_top_n_test=50,
        rpn_pre_nms_top_n_train=1000,
        rpn_post_nms_top_n_train=500,
        box_batch_size_per_image=128,
        mask_roi_pool=mask_pool,
        mask_head=MaskRCNNHeads(fpn_ch, (fpn_ch,) * 4, 1),
        mask_predictor=MaskPredictor(fpn_ch, ups),
    )
    return model


# ------------------------------------------------------------------------------------------ data
class Augmented(torch.utils.data.Dataset):
    """Heavy augmentation of the stored (320 px letterboxed) samples into SIZE x SIZE inputs."""

    def __init__(self, npz, length, seed, mr_floor=None, mr_weight=None):
        self.mr_floor = mr_floor
        d = np.load(npz)
        self.images = d['images'].astype(np.float32)
        self.masks = d['masks']
        self.modality = d['modality']
        self.extent = d['extent']
        self.length = length
        self.seed = seed
        # Sampling weights: uniform over images, or a fixed share of draws for the MR images (fewer
        # than the CT images, and the only ones with dim partial-volume tissue at the body's edge).
        is_mr = self.modality != 'CT'
        if mr_weight is None or not is_mr.any() or is_mr.all():
            self.weights = np.full(len(self.images), 1.0 / len(self.images))
        else:
            self.weights = np.where(is_mr, mr_weight / is_mr.sum(), (1 - mr_weight) / (~is_mr).sum())

    def __len__(self):
        return self.length

    def __getitem__(self, idx):
        rng = np.random.default_rng((self.seed, idx))
        if rng.random() < 0.03:
            img, mask = self.empty(rng)
        else:
            k = int(rng.choice(len(self.images), p=self.weights))
            img = self.intensity(rng, self.images[k], self.modality[k] == 'CT')
            img, mask = self.geometry(rng, img, self.masks[k].astype(np.float32), self.extent[k])
        img = self.artifacts(rng, img, mask)
        img = np.round(np.clip(img, 0, 1) * 255) / 255
        return torch.from_numpy(img[None].astype(np.float32)), targets(mask)

    def empty(self, rng):
        img = np.abs(rng.normal(0, rng.uniform(0, 0.05), (SIZE, SIZE))).astype(np.float32)
        return img, np.zeros((SIZE, SIZE), np.uint8)

    def intensity(self, rng, x, is_ct):
        if is_ct:
            hu = x * 1000.0
            lo = CT_LO + rng.normal(0, 60) if rng.random() < 0.5 else CT_LO
            hi = CT_HI + rng.normal(0, 150) if rng.random() < 0.5 else CT_HI
            y = (hu - lo) / max(hi - lo, 200.0)
            if rng.random() < 0.3:  # scanner noise and other kernels
                y = y + rng.normal(0, rng.uniform(0.005, 0.03), y.shape)
        else:
            y = x * rng.uniform(0.75, 1.3)
            if rng.random() < 0.5:
                y = np.clip(y, 0, None) ** rng.uniform(0.7, 1.5)
            if rng.random() < 0.6:  # bias field: smooth multiplicative
                yy, xx = np.mgrid[0:y.shape[0], 0:y.shape[1]] / y.shape[0] - 0.5
                c = rng.normal(0, 0.4, 6)
                field = np.exp(c[0] * xx + c[1] * yy + c[2] * xx * yy + c[3] * xx ** 2 + c[4] * yy ** 2)
                y = y * field
            if rng.random() < 0.5:  # Rician-like background noise
                y = np.abs(y + rng.normal(0, rng.uniform(0.003, 0.03), y.shape))
            if self.mr_floor is not None:
                # As the runtime normalises (src/segmentation/preprocess.ts): the frame's own 99.5th
                # percentile maps to 1, values under the noise floor read 0.
                p = float(np.percentile(y, 99.5, method='nearest'))
                if p > 0:
                    y = y / p
                y = np.where(y < self.mr_floor, 0.0, y)
        return y.astype(np.float32)

    def geometry(self, rng, img, mask, extent):
        # The runtime stretches the whole frame to SIZE x SIZE: map the stored frame's extent (h, w)
        # onto the output, then zoom, rotate, shift and stretch it a little more.
        h, w = float(extent[0]), float(extent[1])
        ang = rng.uniform(-25, 25) if rng.random() < 0.7 else 0.0
        if rng.random() < 0.15:
            ang += 90 * int(rng.integers(1, 4))
        scale = math.exp(rng.uniform(math.log(0.65), math.log(1.35)))
        aspect = math.exp(rng.uniform(math.log(0.8), math.log(1.25)))
        zy, zx = SIZE / h * scale * aspect, SIZE / w * scale / aspect  # output px per input px
        th = math.radians(ang)
        rot = np.array([[math.cos(th), -math.sin(th)], [math.sin(th), math.cos(th)]])
        mat = np.diag([1 / zy, 1 / zx]) @ rot  # output -> input
        c_out = np.array([SIZE / 2, SIZE / 2]) + rng.normal(0, SIZE * 0.08, 2)
        # Centre on the body's centre so crops keep most of it.
        ys, xs = np.nonzero(mask > 0.5)
        mid = np.array([h / 2, w / 2])
        c_in = np.array([ys.mean(), xs.mean()]) if ys.size else mid
        c_in = c_in * 0.6 + mid * 0.4
        off = c_in - mat @ c_out
        im = ndi.affine_transform(img, mat, off, output_shape=(SIZE, SIZE), order=1, cval=0.0)
        mk = ndi.affine_transform(mask, mat, off, output_shape=(SIZE, SIZE), order=1, cval=0.0) >= 0.5
        if rng.random() < 0.5:
            im, mk = im[:, ::-1], mk[:, ::-1]
        if rng.random() < 0.2:
            im, mk = im[::-1], mk[::-1]
        return np.ascontiguousarray(im), np.ascontiguousarray(mk).astype(np.uint8)

    def artifacts(self, rng, img, mask):
        if rng.random() < 0.25:  # circular field of view
            yy, xx = np.mgrid[0:SIZE, 0:SIZE]
            r = rng.uniform(0.42, 0.6) * SIZE
            out = (yy - SIZE / 2) ** 2 + (xx - SIZE / 2) ** 2 > r * r
            img[out] = 0.0
            mask[out] = 0
        if rng.random() < 0.4:  # burned-in text and markers, in the background
            pil = Image.fromarray((np.clip(img, 0, 1) * 255).astype(np.uint8))
            draw = ImageDraw.Draw(pil)
            for _ in range(int(rng.integers(1, 6))):
                x0, y0 = int(rng.integers(0, SIZE - 40)), int(rng.integers(0, SIZE - 10))
                v = int(rng.uniform(150, 255))
                if rng.random() < 0.7:
                    text = ''.join(chr(int(c)) for c in rng.integers(48, 91, int(rng.integers(3, 12))))
                    draw.text((x0, y0), text, fill=v)
                else:
                    r = int(rng.integers(2, 6))
                    draw.rectangle((x0, y0, x0 + r, y0 + r), fill=v)
            drawn = np.asarray(pil).astype(np.float32) / 255
            keep = mask == 0
            img = np.where(keep, np.maximum(img, drawn), img)
        return img


def targets(mask):
    lab, n = ndi.label(mask)
    boxes, masks = [], []
    for i, sl in enumerate(ndi.find_objects(lab), start=1):
        m = lab == i
        if m.sum() < 24:
            continue
        boxes.append([sl[1].start, sl[0].start, sl[1].stop, sl[0].stop])
        masks.append(m)
    if boxes:
        b = torch.tensor(boxes, dtype=torch.float32)
        ms = torch.from_numpy(np.stack(masks).astype(np.uint8))
    else:
        b = torch.zeros((0, 4), dtype=torch.float32)
        ms = torch.zeros((0, SIZE, SIZE), dtype=torch.uint8)
    return {'boxes': b, 'labels': torch.ones((len(boxes),), dtype=torch.int64), 'masks': ms}


def collate(batch):
    return [b[0] for b in batch], [b[1] for b in batch]


def worker_init(wid):
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


# ------------------------------------------------------------------------------------- held out
def heldout_inputs(npz, mr_floor=None):
    """The held-out samples exactly as the runtime feeds them (canonical window, no augmentation)."""
    d = np.load(npz)
    out = []
    for img, mask, mod, src, ext in zip(d['images'].astype(np.float32), d['masks'], d['modality'], d['source'],
                                        d['extent']):
        img, mask = img[:ext[0], :ext[1]], mask[:ext[0], :ext[1]]
        if mod == 'CT':
            y = (img * 1000.0 - CT_LO) / (CT_HI - CT_LO)
        else:
            y = img / max(float(np.percentile(img, 99.5, method='nearest')), 1e-6)
            if mr_floor is not None:
                y = np.where(y < mr_floor, 0.0, y)
        img = np.asarray(Image.fromarray(y.astype(np.float32)).resize((SIZE, SIZE), Image.BILINEAR))
        m = np.asarray(Image.fromarray(mask * 255).resize((SIZE, SIZE), Image.BILINEAR)) >= 128
        x = np.round(np.clip(img, 0, 1) * 255) / 255
        out.append((str(mod), str(src), x.astype(np.float32), m))
    return out


def union_mask(out, score=0.5):
    keep = out['scores'] >= score
    if int(keep.sum()) == 0:
        return np.zeros((SIZE, SIZE), bool)
    return (out['masks'][keep, 0].max(0).values >= 0.5).cpu().numpy()


@torch.no_grad()
def evaluate(model, samples, device):
    model.eval()
    res = {}
    for mod, src, x, m in samples:
        o = model([torch.from_numpy(x[None]).to(device)])[0]
        p = union_mask(o)
        inter = np.logical_and(p, m).sum()
        uni = np.logical_or(p, m).sum()
        iou = 1.0 if uni == 0 else inter / uni
        kind = mod + ('-reformat' if ('/cor' in src or '/sag' in src) else '')
        res.setdefault(kind, []).append(float(iou))
    return {k: (float(np.mean(v)), float(np.min(v)), len(v)) for k, v in res.items()}


# ---------------------------------------------------------------------------------------- export
def export(model, path):
    model.eval().cpu()
    x = torch.rand(1, SIZE, SIZE)
    kwargs = dict(
        opset_version=11,
        input_names=['image'],
        output_names=['boxes', 'labels', 'scores', 'masks'],
        dynamic_axes={'boxes': {0: 'n'}, 'labels': {0: 'n'}, 'scores': {0: 'n'}, 'masks': {0: 'n'}},
    )
    if int(torch.__version__.split('.')[0]) >= 2:
        kwargs['dynamo'] = False
    torch.onnx.export(model, ([x],), path, **kwargs)


def check_onnx(model, path, samples):
    """Same union mask from onnxruntime as from torch on a few held-out inputs."""
    try:
        import onnxruntime as ort
    except ImportError:
        return 'onnxruntime not installed'
    sess = ort.InferenceSession(path, providers=['CPUExecutionProvider'])
    worst = 1.0
    with torch.no_grad():
        for _, _, x, _ in samples[:: max(1, len(samples) // 8)]:
            o = model([torch.from_numpy(x[None])])[0]
            a = union_mask(o)
            boxes, labels, scores, masks = sess.run(None, {'image': x[None]})
            keep = scores >= 0.5
            b = masks[keep, 0].max(0) >= 0.5 if keep.any() else np.zeros_like(a)
            u = np.logical_or(a, b).sum()
            worst = min(worst, 1.0 if u == 0 else np.logical_and(a, b).sum() / u)
    return f'onnx vs torch worst IoU {worst:.4f}'


# ------------------------------------------------------------------------------------------ main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--data', default='.devcarry/seg')
    ap.add_argument('--out', default='models/train/runs/last')
    ap.add_argument('--arch', default='small', choices=['small', 'large'])
    ap.add_argument('--fpn', type=int, default=64)
    ap.add_argument('--mask-res', type=int, default=28, choices=[28, 56])
    ap.add_argument('--batch', type=int, default=4)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--iters', type=int, default=0, help='iteration budget (0: use --minutes)')
    ap.add_argument('--minutes', type=float, default=0.0, help='wall-clock budget for training')
    ap.add_argument('--workers', type=int, default=2)
    ap.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu')
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--name', default='model')
    ap.add_argument('--init', default='', help='start from these weights (a state_dict .pt) to fine-tune')
    ap.add_argument('--warmup', type=int, default=200, help='linear learning-rate warm-up iterations')
    ap.add_argument('--mr-floor', type=float, default=None,
                    help='normalise MR as the runtime does: frame 99.5th percentile -> 1, below this -> 0')
    ap.add_argument('--mr-weight', type=float, default=None,
                    help='share of training draws from MR images (default: uniform over all images)')
    args = ap.parse_args()
    assert args.iters > 0 or args.minutes > 0, 'give --iters or --minutes'
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    random.seed(args.seed)
    if args.device == 'cuda':
        torch.backends.cudnn.benchmark = False  # RoI counts vary: benchmarking re-tunes every batch
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True

    model = build_model(args.arch, args.fpn, args.mask_res)
    if args.init:
        state = torch.load(args.init, map_location='cpu')
        model.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in state.items()})
    model = model.to(args.device)
    n_params = sum(p.numel() for p in model.parameters())
    log = open(os.path.join(args.out, f'{args.name}.log'), 'w')

    def say(*a):
        line = ' '.join(str(v) for v in a)
        print(f'[{args.name}] {line}', flush=True)
        log.write(line + '\n')
        log.flush()

    say('args', json.dumps(vars(args)), 'params', n_params, 'torch', torch.__version__)
    ds = Augmented(os.path.join(args.data, 'train.npz'), 10_000_000, args.seed, args.mr_floor, args.mr_weight)
    dl = torch.utils.data.DataLoader(
        ds, batch_size=args.batch, shuffle=False, num_workers=args.workers, collate_fn=collate,
        worker_init_fn=worker_init, persistent_workers=args.workers > 0, prefetch_factor=4 if args.workers else None,
    ) if args.workers > 0 else torch.utils.data.DataLoader(ds, batch_size=args.batch, collate_fn=collate)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=1e-4)
    warm = args.warmup
    t0 = time.time()
    it = 0
    model.train()
    for imgs, tgts in dl:
        frac = it / args.iters if args.iters else (time.time() - t0) / (args.minutes * 60)
        if frac >= 1.0:
            break
        lr = args.lr * min(1.0, (it + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
        for g in opt.param_groups:
            g['lr'] = lr
        imgs = [i.to(args.device, non_blocking=True) for i in imgs]
        tgts = [{k: v.to(args.device, non_blocking=True) for k, v in t.items()} for t in tgts]
        losses = model(imgs, tgts)
        loss = sum(losses.values())
        if not torch.isfinite(loss):
            say('non-finite loss at', it, {k: float(v) for k, v in losses.items()})
            opt.zero_grad(set_to_none=True)
            it += 1
            continue
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 10.0)
        opt.step()
        if it % 100 == 0:
            say(f'it {it} t {time.time() - t0:.0f}s lr {lr:.2e} loss {float(loss):.4f}',
                ' '.join(f'{k[5:]}={float(v):.3f}' for k, v in losses.items()))
        it += 1
    say(f'trained {it} iterations in {time.time() - t0:.0f}s')
    held = heldout_inputs(os.path.join(args.data, 'heldout.npz'), args.mr_floor)
    say('heldout IoU (mean, min, n) at 256 px', json.dumps(evaluate(model, held, args.device)))
    model.cpu().eval()
    # Half-precision weights keep the returned files small; the ONNX is exported from float32.
    torch.save({k: (v.half() if v.is_floating_point() else v) for k, v in model.state_dict().items()},
               os.path.join(args.out, f'{args.name}.pt'))
    onnx_path = os.path.join(args.out, f'{args.name}.onnx')
    export(model, onnx_path)
    say('exported', onnx_path, os.path.getsize(onnx_path), 'bytes;', check_onnx(model, onnx_path, held))


if __name__ == '__main__':
    main()
