// feral/data/resample.hpp — changing which images of each class a data set holds.
//
//   balance_classes(data, n, seed)   exactly n images per class: classes with more are
//                                    under-sampled (n distinct images, chosen at random),
//                                    classes with fewer are over-sampled (every image once,
//                                    then the rest drawn with replacement)
//   first_n_per_class(data, n)       the first n images of each class in data order (all of
//                                    them for smaller classes), e.g. "the first 3,000
//                                    images per class"
//   drop_class(data, "disgust")      without one class; labels renumbered 0..k-2 in the same
//   keep_classes(data, names)        order and class_names kept consistent (6-class studies)
//
// Randomness: class c uses Random(seed).fork(c), so a class's selection does not depend on
// the other classes. Output rows come class by class (balance_classes; the images chosen
// for a class keep their data order, extra draws after them) or in data order (the others).
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/data/class_names.hpp"
#include "feral/data/dataset.hpp"

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace feral {

/// Exactly n images of every class (see the header comment).
/// throws: invalid_argument for n < 1, an invalid data set, or a class without images.
[[nodiscard]] inline Dataset balance_classes(const Dataset& data, Index n_per_class, std::uint64_t seed = 0) {
    data.validate("balance_classes");
    if (n_per_class < 1) detail::fail("balance_classes: n_per_class must be at least 1, got ", n_per_class);
    std::vector<std::vector<Index>> rows(data.class_names.size());
    for (Index i = 0; i < data.size(); ++i) rows[static_cast<std::size_t>(data.labels[i])].push_back(i);
    std::vector<Index> chosen;
    chosen.reserve(static_cast<std::size_t>(n_per_class) * rows.size());
    const Random base(seed);
    for (std::size_t c = 0; c < rows.size(); ++c) {
        const auto& r = rows[c];
        const auto count = static_cast<Index>(r.size());
        if (count == 0)
            detail::fail("balance_classes: class '", data.class_names[c], "' has no images to sample from (drop it first with drop_class)");
        Random rng = base.fork(c);
        if (count >= n_per_class) {
            // under-sample: a random n-subset, kept in data order
            auto perm = rng.permutation<Index>(count);
            perm.resize(static_cast<std::size_t>(n_per_class));
            std::sort(perm.begin(), perm.end());
            for (Index k : perm) chosen.push_back(r[static_cast<std::size_t>(k)]);
        } else {
            // over-sample: every image once, then draws with replacement
            chosen.insert(chosen.end(), r.begin(), r.end());
            for (Index k = count; k < n_per_class; ++k)
                chosen.push_back(r[static_cast<std::size_t>(rng.below(static_cast<std::uint64_t>(count)))]);
        }
    }
    return data.subset(chosen);
}

/// The first n images of each class, in data order (smaller classes keep all their images).
/// throws: invalid_argument for n < 1 or an invalid data set.
[[nodiscard]] inline Dataset first_n_per_class(const Dataset& data, Index n_per_class) {
    data.validate("first_n_per_class");
    if (n_per_class < 1) detail::fail("first_n_per_class: n_per_class must be at least 1, got ", n_per_class);
    std::vector<Index> taken(data.class_names.size(), 0);
    std::vector<Index> chosen;
    for (Index i = 0; i < data.size(); ++i)
        if (taken[static_cast<std::size_t>(data.labels[i])]++ < n_per_class) chosen.push_back(i);
    return data.subset(chosen);
}

/// Only the classes named in `names` (in the data set's order), labels renumbered 0..k-1.
/// throws: invalid_argument for an unknown or repeated name, or fewer than one class kept.
[[nodiscard]] inline Dataset keep_classes(const Dataset& data, const std::vector<std::string>& names) {
    data.validate("keep_classes");
    std::vector<int> new_label(data.class_names.size(), -1);
    for (const auto& name : names) {
        const int c = class_index(data.class_names, name);
        if (c < 0) detail::fail("keep_classes: no class '", name, "' in the data set");
        if (new_label[static_cast<std::size_t>(c)] >= 0) detail::fail("keep_classes: class '", name, "' is named twice");
        new_label[static_cast<std::size_t>(c)] = 0;
    }
    if (names.empty()) detail::fail("keep_classes: no classes to keep");
    std::vector<std::string> kept_names;
    for (std::size_t c = 0; c < data.class_names.size(); ++c)
        if (new_label[c] >= 0) {
            new_label[c] = static_cast<int>(kept_names.size());
            kept_names.push_back(data.class_names[c]);
        }
    std::vector<Index> rows;
    for (Index i = 0; i < data.size(); ++i)
        if (new_label[static_cast<std::size_t>(data.labels[i])] >= 0) rows.push_back(i);
    Dataset out = data.subset(rows);
    for (Index i = 0; i < out.size(); ++i) out.labels[i] = new_label[static_cast<std::size_t>(out.labels[i])];
    out.class_names = std::move(kept_names);
    return out;
}

/// Every class but `name`, labels renumbered (e.g. the 6-class studies without "disgust").
/// throws: invalid_argument for an unknown name or when it is the only class.
[[nodiscard]] inline Dataset drop_class(const Dataset& data, const std::string& name) {
    if (class_index(data.class_names, name) < 0) detail::fail("drop_class: no class '", name, "' in the data set");
    std::vector<std::string> rest;
    for (const auto& c : data.class_names)
        if (c != name) rest.push_back(c);
    if (rest.empty()) detail::fail("drop_class: '", name, "' is the only class");
    return keep_classes(data, rest);
}

}  // namespace feral
