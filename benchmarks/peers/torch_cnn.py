#!/usr/bin/env python3
"""PyTorch 1.13 peer of benchmarks/feral_bench_cnn.cpp: the same architectures, data, batch
sizes, optimiser settings and thread count, printing the same JSON lines.

    /usr/bin/python3 benchmarks/peers/torch_cnn.py --arch small \
        --train /work/shared/fer2013/train --test /work/shared/fer2013/test \
        [--epochs E] [--limit N] [--threads T] [--seed S]
        [--validation F] [--class-weight balanced] [--patience P]
        [--protocol study2|study2-balance-first] [--per-class N]

Study 4's recipe (--arch study4 --validation 0.1 --class-weight balanced --patience 3
--epochs 50) carves a stratified validation set from the training images, weights the loss
by 'balanced' class weights (Keras's class_weight: sum w_i l_i / batch size), and stops
when the validation loss has not improved for P epochs, restoring the best epoch's weights
(Keras's rule: only when stopping fires). The carve is this script's own (numpy, seeded),
not feral's, so compare the two over several seeds.

Study 2's data (--protocol study2 or study2-balance-first, with --arch study2 or mlp):
benchmarks/peers/study2_protocol.py carves a 10% validation and a 10% test set and balances
the training rows to --per-class per class (in either order), and the inputs are standardised
with one mean and one standard deviation of the balanced training pixels, as study 2 does.
Each epoch's line then adds "carved_accuracy" (the carved test set, where the study's
published figures were measured) and the validation figures; "test_accuracy" stays the
official test folder's.

Matching feral (include/feral/nn/architectures.hpp):
  * data: FER2013 class order (angry, disgust, fear, happy, sad, surprise, neutral), files
    sorted by name, --limit N keeps the first N of each class; inputs pixels / 255;
  * Keras-style initialisation (glorot_uniform kernels, zero biases; LSTM: glorot input
    kernel, orthogonal recurrent kernel, unit forget bias), BatchNorm momentum 0.01
    (= Keras 0.99) and epsilon 1e-3, Adam epsilon 1e-7 (Keras's and feral's default);
  * 'same' padding for 3x3 stride-1 convolutions is padding=1 (identical to TensorFlow's);
  * wide's augmentation: Keras ImageDataGenerator transforms (rotation 15, shifts 0.1, zoom
    0.1, horizontal flip), applied per image with scipy.ndimage.affine_transform (order 1,
    mode nearest), as Keras does on the CPU.
seconds / images_per_second cover training only (augmentation included), like feral's.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image

from study2_protocol import stratified_carve, study2_indices

CLASSES = ["angry", "disgust", "fear", "happy", "sad", "surprise", "neutral"]


def load_folder(root, limit):
    images, labels = [], []
    for label, name in enumerate(CLASSES):
        folder = os.path.join(root, name)
        if not os.path.isdir(folder):
            continue
        files = sorted(f for f in os.listdir(folder) if f.lower().endswith((".png", ".jpg", ".jpeg", ".bmp")))
        if limit > 0:
            files = files[:limit]
        for f in files:
            images.append(np.asarray(Image.open(os.path.join(folder, f)).convert("L"), dtype=np.uint8))
            labels.append(label)
    x = np.stack(images).astype(np.float32)[:, None, :, :] / 255.0
    return torch.from_numpy(x), torch.tensor(labels, dtype=torch.long)


def conv_relu(cin, f, same):
    return [nn.Conv2d(cin, f, 3, padding=1 if same else 0), nn.ReLU()]


def bn2d(f):
    return nn.BatchNorm2d(f, eps=1e-3, momentum=0.01)


class LastLSTM(nn.Module):
    def __init__(self, features, units):
        super().__init__()
        self.lstm = nn.LSTM(features, units, batch_first=True)

    def forward(self, x):
        out, _ = self.lstm(x[:, 0])  # N x 48 steps x 48 features
        return out[:, -1]


def build(arch, classes):
    """Returns (model, batch_size, learning_rate, augment?)."""
    layers = []
    if arch == "small":
        layers = conv_relu(1, 32, False) + [nn.MaxPool2d(2)] + conv_relu(32, 64, False) + [nn.MaxPool2d(2)]
        layers += [nn.Flatten(), nn.Linear(64 * 10 * 10, classes)]
        return nn.Sequential(*layers), 32, 1e-3, False
    if arch == "study2":
        layers = conv_relu(1, 32, False) + conv_relu(32, 16, True) + [nn.MaxPool2d(2)]
        layers += conv_relu(16, 32, True) + [nn.MaxPool2d(2)] + conv_relu(32, 64, True) + [nn.MaxPool2d(2)]
        layers += [nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(), nn.Linear(128, classes)]
        return nn.Sequential(*layers), 32, 1e-3, False
    if arch == "study4":
        layers = conv_relu(1, 64, True) + [nn.MaxPool2d(2), nn.Dropout(0.2)] + conv_relu(64, 64, True) + [nn.MaxPool2d(2)]
        layers += [nn.Flatten(), nn.Linear(64 * 12 * 12, 128), nn.ReLU(), nn.Linear(128, classes)]
        return nn.Sequential(*layers), 100, 1e-3, False
    if arch == "mid":
        cin = 1
        for f in (32, 64, 128):
            layers += conv_relu(cin, f, True) + [bn2d(f), nn.MaxPool2d(2)]
            cin = f
        layers += [nn.Flatten(), nn.Linear(128 * 6 * 6, 128), nn.ReLU(), nn.Dropout(0.4), nn.Linear(128, classes)]
        return nn.Sequential(*layers), 64, 1e-3, False
    if arch == "deep":
        cin = 1
        for f in (32, 128, 128, 32):
            layers += conv_relu(cin, f, True) + [bn2d(f)] + conv_relu(f, f, True) + [bn2d(f), nn.MaxPool2d(2), nn.Dropout(0.2)]
            cin = f
        layers += [nn.Flatten(), nn.Linear(32 * 3 * 3, 64), nn.ReLU(), nn.BatchNorm1d(64, eps=1e-3, momentum=0.01),
                   nn.Dropout(0.5), nn.Linear(64, classes)]
        return nn.Sequential(*layers), 256, 5e-4, False
    if arch == "wide":
        cin = 1
        for f in (32, 64, 128, 256):
            layers += conv_relu(cin, f, True) + [bn2d(f), nn.MaxPool2d(2), nn.Dropout(0.2)]
            cin = f
        layers += [nn.Flatten(), nn.Linear(256 * 3 * 3, 256), nn.ReLU(), nn.Dropout(0.2), nn.Linear(256, classes)]
        return nn.Sequential(*layers), 32, 1e-3, True
    if arch == "mlp":
        layers = [nn.Flatten()]
        cin = 48 * 48
        for _ in range(4):
            layers += [nn.Linear(cin, 256), nn.ReLU()]
            cin = 256
        layers += [nn.Linear(256, classes)]
        return nn.Sequential(*layers), 32, 1e-3, False
    if arch == "lstm":
        layers = [LastLSTM(48, 128), nn.Dropout(0.4), nn.Linear(128, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, classes)]
        return nn.Sequential(*layers), 64, 1e-3, False
    raise SystemExit(f"unknown architecture {arch!r}")


def keras_init(model):
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LSTM):
            units = m.hidden_size
            nn.init.xavier_uniform_(m.weight_ih_l0)
            nn.init.orthogonal_(m.weight_hh_l0)
            nn.init.zeros_(m.bias_ih_l0)
            nn.init.zeros_(m.bias_hh_l0)
            with torch.no_grad():
                m.bias_ih_l0[units:2 * units] = 1.0


def training_macs(model, shape):
    """Forward multiply-accumulates per image of Conv2d, Linear and LSTM layers."""
    macs = 0

    def hook(module, inputs, output):
        nonlocal macs
        if isinstance(module, nn.Conv2d):
            macs += output[0].numel() * module.in_channels * module.kernel_size[0] * module.kernel_size[1]
        elif isinstance(module, nn.Linear):
            macs += module.in_features * module.out_features
        elif isinstance(module, nn.LSTM):
            steps = inputs[0].shape[1]
            macs += steps * (module.input_size + module.hidden_size) * 4 * module.hidden_size

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear, nn.LSTM))]
    model.eval()
    with torch.no_grad():
        model(torch.zeros((1,) + shape))
    for h in handles:
        h.remove()
    return macs


def keras_augment(batch, rng):
    """ImageDataGenerator(rotation_range=15, width/height_shift_range=0.1, zoom_range=0.1,
    horizontal_flip=True, fill_mode='nearest') on an N x 1 x H x W numpy batch."""
    from scipy import ndimage
    out = np.empty_like(batch)
    h, w = batch.shape[2], batch.shape[3]
    for i in range(batch.shape[0]):
        theta = np.deg2rad(rng.uniform(-15, 15))
        tx = rng.uniform(-0.1, 0.1) * h
        ty = rng.uniform(-0.1, 0.1) * w
        zx, zy = rng.uniform(0.9, 1.1, 2)
        flip = rng.uniform() < 0.5
        rotation = np.array([[math.cos(theta), -math.sin(theta), 0], [math.sin(theta), math.cos(theta), 0], [0, 0, 1]])
        shift = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
        zoom = np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
        m = rotation @ shift @ zoom
        ox, oy = h / 2 + 0.5, w / 2 + 0.5
        m = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]]) @ m @ np.array([[1, 0, -ox], [0, 1, -oy], [0, 0, 1]])
        img = ndimage.affine_transform(batch[i, 0], m[:2, :2], m[:2, 2], order=1, mode="nearest")
        out[i, 0] = img[:, ::-1] if flip else img
    return out


def evaluate(model, x, y, batch=256):
    """(mean unweighted cross-entropy, accuracy) in evaluation mode."""
    model.eval()
    loss, hits = 0.0, 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch):
            logits = model(x[i:i + batch])
            loss += nn.functional.cross_entropy(logits, y[i:i + batch], reduction="sum").item()
            hits += (logits.argmax(1) == y[i:i + batch]).sum().item()
    return loss / x.shape[0], hits / x.shape[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="small")
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--validation", type=float, default=0.0, help="stratified share of train held out")
    parser.add_argument("--class-weight", choices=["none", "balanced"], default="none")
    parser.add_argument("--patience", type=int, default=0, help="early stopping on val loss (needs --validation)")
    parser.add_argument("--protocol", choices=["plain", "study2", "study2-balance-first"], default="plain",
                        help="study 2's carve, balancing and global standardisation (see above)")
    parser.add_argument("--per-class", type=int, default=3000, help="--protocol study2*: images per class")
    args = parser.parse_args()
    if args.patience > 0 and args.validation <= 0:
        raise SystemExit("--patience needs --validation")
    if args.protocol != "plain" and args.validation > 0:
        raise SystemExit("--protocol carves its own validation set: drop --validation")
    if args.per_class < 1:
        raise SystemExit(f"--per-class must be >= 1, got {args.per_class}")

    threads = args.threads if args.threads > 0 else int(os.environ.get("FERAL_NUM_THREADS", os.cpu_count()))
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    x_train, y_train = load_folder(args.train, args.limit)
    x_test, y_test = load_folder(args.test, args.limit)
    x_val = y_val = x_carved = y_carved = None
    if args.validation > 0:
        keep, held = stratified_carve(y_train.numpy(), [args.validation], np.random.default_rng(args.seed))
        keep, held = torch.from_numpy(keep), torch.from_numpy(held)
        x_val, y_val = x_train[held], y_train[held]
        x_train, y_train = x_train[keep], y_train[keep]
    if args.protocol != "plain":
        fit, held, carved = (torch.from_numpy(i) for i in study2_indices(y_train.numpy(), args.protocol,
                                                                          args.per_class, args.seed))
        x_val, y_val, x_carved, y_carved = x_train[held], y_train[held], x_train[carved], y_train[carved]
        x_train, y_train = x_train[fit], y_train[fit]
        mean, std = x_train.double().mean().item(), x_train.double().std(unbiased=False).item()
        x_train, x_val, x_carved, x_test = ((x - mean) / std for x in (x_train, x_val, x_carved, x_test))
    counts = torch.bincount(y_train, minlength=len(CLASSES)).double()
    if args.class_weight == "balanced":  # scikit-learn's compute_class_weight('balanced')
        class_weight = (y_train.shape[0] / (len(CLASSES) * counts.clamp(min=1))).float()
    else:
        class_weight = torch.ones(len(CLASSES))
    model, batch_size, lr, augment = build(args.arch, len(CLASSES))
    keras_init(model)
    flops_per_image = 6.0 * training_macs(model, tuple(x_train.shape[1:]))
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-7)
    per_sample_loss = nn.CrossEntropyLoss(reduction="none")
    best_loss, best_epoch, best_state, waited, stopped_epoch = math.inf, -1, None, 0, -1
    n = x_train.shape[0]
    total_seconds, ips_sum, test_accuracy, epochs_run = 0.0, 0.0, 0.0, 0
    for epoch in range(args.epochs):
        model.train()
        start = time.perf_counter()
        order = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for first in range(0, n, batch_size):
            idx = order[first:first + batch_size]
            xb, yb = x_train[idx], y_train[idx]
            if augment:
                xb = torch.from_numpy(keras_augment(xb.numpy(), rng))
            optimizer.zero_grad()
            logits = model(xb)
            loss = (class_weight[yb] * per_sample_loss(logits, yb)).mean()
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == yb).sum().item()
        seconds = time.perf_counter() - start
        _, test_accuracy = evaluate(model, x_test, y_test)
        ips = n / seconds
        total_seconds += seconds
        ips_sum += ips
        record = {"library": "torch", "arch": args.arch, "epoch": epoch + 1, "seconds": seconds,
                  "images_per_second": ips, "train_loss": loss_sum / n, "train_accuracy": correct / n,
                  "test_accuracy": test_accuracy, "gflops_per_second": flops_per_image * ips / 1e9}
        epochs_run = epoch + 1
        if x_val is not None:
            record["val_loss"], record["val_accuracy"] = evaluate(model, x_val, y_val)
        if x_carved is not None:
            _, record["carved_accuracy"] = evaluate(model, x_carved, y_carved)
        print(json.dumps(record), flush=True)
        if args.patience > 0:  # Keras EarlyStopping(monitor='val_loss', restore_best_weights=True)
            if record["val_loss"] < best_loss:
                best_loss, best_epoch, waited = record["val_loss"], epoch, 0
                best_state = {k: v.clone() for k, v in model.state_dict().items()}
            else:
                waited += 1
                if waited >= args.patience:
                    stopped_epoch = epoch
                    model.load_state_dict(best_state)
                    _, test_accuracy = evaluate(model, x_test, y_test)
                    break
    mean_ips = ips_sum / max(epochs_run, 1)
    carved_accuracy = None if x_carved is None else evaluate(model, x_carved, y_carved)[1]
    print(json.dumps({"library": "torch", "arch": args.arch, "summary": True, "epochs": epochs_run, "threads": threads,
                      "n_train": n, "n_test": int(x_test.shape[0]), "batch_size": batch_size, "seconds": total_seconds,
                      "images_per_second": mean_ips, "test_accuracy": test_accuracy,
                      "gflops_per_second": flops_per_image * mean_ips / 1e9,
                      "n_validation": 0 if x_val is None else int(x_val.shape[0]), "class_weight": args.class_weight,
                      "best_epoch": best_epoch + 1 if args.patience > 0 else None,
                      "stopped_epoch": stopped_epoch + 1 if stopped_epoch >= 0 else None,
                      "protocol": args.protocol, "carved_accuracy": carved_accuracy}), flush=True)


if __name__ == "__main__":
    main()
