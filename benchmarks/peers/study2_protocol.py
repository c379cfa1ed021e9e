"""Study 2's data protocol in numpy, shared by the scikit-learn and PyTorch peers
(see examples/studies/study2_eight_models.hpp for feral's).

carve first (--protocol study2): carve a stratified 10% validation and 10% test set from the
training folder, then balance the rest to `per_class` images per class: classes with more, a
random subset without repeats; classes with fewer, every image once, then draws with
replacement. Repeated faces stay inside the training set.

balance first (--protocol study2-balance-first): balance the whole training folder, then carve,
so over-sampled copies of one face can land in both the training set and the carved test set.

The randomness is numpy's (seeded), not feral's, so a peer never sees feral's split: compare
over seeds.
"""
import numpy as np


def stratified_carve(y, fractions, rng):
    """Index arrays (rest, part 1, part 2, ...): round(fraction * n_c) of each class c per part."""
    parts = [[] for _ in range(len(fractions) + 1)]
    for c in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == c))
        start = 0
        for k, fraction in enumerate(fractions):
            cut = int(round(fraction * len(members)))
            parts[k + 1].extend(members[start:start + cut])
            start += cut
        parts[0].extend(members[start:])
    return [np.sort(np.asarray(p, dtype=np.int64)) for p in parts]


def balance(y, per_class, rng):
    """Indices giving exactly per_class rows of every class (see the module comment)."""
    chosen = []
    for c in np.unique(y):
        members = np.flatnonzero(y == c)
        if len(members) >= per_class:
            chosen.extend(np.sort(rng.choice(members, per_class, replace=False)))
        else:
            chosen.extend(members)
            chosen.extend(rng.choice(members, per_class - len(members), replace=True))
    return np.asarray(chosen, dtype=np.int64)


def study2_indices(y, protocol, per_class, seed):
    """(fit, validation, carved test) row indices into the training folder for `protocol`;
    fit may repeat rows (over-sampling)."""
    rng = np.random.default_rng(seed)
    if protocol == "study2":
        rest, validation, test = stratified_carve(y, [0.1, 0.1], rng)
        return rest[balance(y[rest], per_class, rng)], validation, test
    if protocol == "study2-balance-first":
        balanced = balance(y, per_class, rng)
        rest, validation, test = stratified_carve(y[balanced], [0.1, 0.1], rng)
        return balanced[rest], balanced[validation], balanced[test]
    raise ValueError(f"unknown protocol {protocol!r} (known: study2, study2-balance-first)")
