#!/usr/bin/env python3
"""Re-export a trained state_dict to ONNX with the box enlargement used by the shipped model.

Mask R-CNN confines each instance mask to its detected box; where the box regression stops short of
the body (a rounded flank, the top of the head), the mask is cut by a straight line and body pixels
end up in the background. Enlarging each detected box about its centre before the mask branch (RoI
pooling and paste-back) lets the mask head, trained on proposals with IoU >= 0.5 to the truth and so
used to loose boxes, draw the whole outline.

Usage: /usr/bin/python3 models/train/export.py --weights b2.pt --out models/body-maskrcnn.onnx \
         --arch small --mask-res 56 --box-scale 1.15
"""
import argparse
import sys
import os

import torch
from torchvision.ops import poolers

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train import SIZE, build_model, export  # noqa: E402


def enlarge_boxes(model, scale):
    heads = model.roi_heads
    original = heads.postprocess_detections

    def postprocess(class_logits, box_regression, proposals, image_shapes):
        boxes, scores, labels = original(class_logits, box_regression, proposals, image_shapes)
        out = []
        for b, shape in zip(boxes, image_shapes):
            cx = (b[:, 0] + b[:, 2]) / 2
            cy = (b[:, 1] + b[:, 3]) / 2
            hw = (b[:, 2] - b[:, 0]) * scale / 2
            hh = (b[:, 3] - b[:, 1]) * scale / 2
            h, w = float(shape[0]), float(shape[1])
            out.append(torch.stack([
                (cx - hw).clamp(min=0.0, max=w), (cy - hh).clamp(min=0.0, max=h),
                (cx + hw).clamp(min=0.0, max=w), (cy + hh).clamp(min=0.0, max=h),
            ], dim=1))
        return out, scores, labels

    heads.postprocess_detections = postprocess


def merge_levels_by_gather(levels, unmerged_results):
    """Same result as torchvision's _onnx_merge_levels without a ScatterElements over [n, C, h, w].

    MultiScaleRoIAlign pools each RoI on its FPN level and merges the per-level results back into
    RoI order. torchvision's export writes them with one ScatterElements per level into a zero tensor
    of every RoI's features; onnxruntime's ScatterElements is element-wise and was the single most
    expensive op of the graph (about a fifth of the run time). The per-level results in level order
    are a permutation of the RoIs: gathering them with the inverse permutation gives the same tensor.
    """
    order = torch.cat([torch.where(levels == level)[0] for level in range(len(unmerged_results))])
    stacked = torch.cat(unmerged_results, 0)
    inverse = torch.zeros_like(order).scatter(0, order, torch.arange(order.size(0), dtype=order.dtype))
    return stacked[inverse]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--weights', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--arch', default='small')
    ap.add_argument('--fpn', type=int, default=64)
    ap.add_argument('--mask-res', type=int, default=56)
    ap.add_argument('--box-scale', type=float, default=1.15)
    ap.add_argument('--scatter-merge', action='store_true',
                    help="keep torchvision's ScatterElements merge of RoI levels (slower, same output)")
    ap.add_argument('--rpn-pre-nms', type=int, default=None,
                    help='RPN proposals per FPN level before NMS (training default: 200)')
    ap.add_argument('--rpn-post-nms', type=int, default=None,
                    help='RPN proposals kept after NMS for the box head (training default: 50)')
    ap.add_argument('--detections', type=int, default=None,
                    help='most instances returned (training default: 8)')
    args = ap.parse_args()
    if not args.scatter_merge:
        poolers._onnx_merge_levels = merge_levels_by_gather
    model = build_model(args.arch, args.fpn, args.mask_res)
    state = torch.load(args.weights, map_location='cpu')
    model.load_state_dict({k: (v.float() if v.is_floating_point() else v) for k, v in state.items()})
    model.eval()
    if args.rpn_pre_nms is not None:
        model.rpn._pre_nms_top_n['testing'] = args.rpn_pre_nms
    if args.rpn_post_nms is not None:
        model.rpn._post_nms_top_n['testing'] = args.rpn_post_nms
    if args.detections is not None:
        model.roi_heads.detections_per_img = args.detections
    if args.box_scale != 1.0:
        enlarge_boxes(model, args.box_scale)
    export(model, args.out)
    with torch.no_grad():
        o = model([torch.full((1, SIZE, SIZE), 0.3)])[0]
    print('exported', args.out, os.path.getsize(args.out), 'bytes; smoke test boxes', tuple(o['boxes'].shape))


if __name__ == '__main__':
    main()
