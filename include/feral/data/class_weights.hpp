// feral/data/class_weights.hpp — 'balanced' class weights for imbalanced data (FER2013's
// disgust class is 16 times rarer than happy).
//
//   weight(c) = n_samples / (n_classes * count(c))
//
// the formula of scikit-learn's compute_class_weight('balanced') and the usual Keras
// class_weight recipe: every class then carries the same total weight. sample_weights()
// turns per-class weights into one weight per sample.
//
// Example:
//   auto w = feral::balanced_class_weights(train.labels, train.num_classes());
//   // w[1] (disgust) ~ 9.3, w[3] (happy) ~ 0.57 on the FER2013 training folder
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"

#include <vector>

namespace feral {

/// weight[c] = n / (n_classes * count(c)) for labels 0..n_classes-1.
/// throws: invalid_argument for no labels, a label outside 0..n_classes-1 (naming its row),
///         or a class without samples (its weight would be infinite).
[[nodiscard]] inline std::vector<double> balanced_class_weights(ConstLabelsRef labels, Index n_classes) {
    if (n_classes < 1) detail::fail("balanced_class_weights: n_classes must be at least 1, got ", n_classes);
    if (labels.size() == 0) detail::fail("balanced_class_weights: no labels");
    std::vector<Index> counts(static_cast<std::size_t>(n_classes), 0);
    for (Index i = 0; i < labels.size(); ++i) {
        if (labels[i] < 0 || labels[i] >= n_classes)
            detail::fail("balanced_class_weights: label ", labels[i], " at row ", i, " is outside 0..", n_classes - 1);
        ++counts[static_cast<std::size_t>(labels[i])];
    }
    std::vector<double> weights(counts.size());
    for (std::size_t c = 0; c < counts.size(); ++c) {
        if (counts[c] == 0) detail::fail("balanced_class_weights: class ", c, " has no samples");
        weights[c] = static_cast<double>(labels.size()) / (static_cast<double>(n_classes) * static_cast<double>(counts[c]));
    }
    return weights;
}

/// One weight per sample: class_weights[labels[i]].
/// throws: invalid_argument for a label without a weight (naming its row).
[[nodiscard]] inline Vector<double> sample_weights(ConstLabelsRef labels, const std::vector<double>& class_weights) {
    Vector<double> out(labels.size());
    for (Index i = 0; i < labels.size(); ++i) {
        if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= class_weights.size())
            detail::fail("sample_weights: label ", labels[i], " at row ", i, " has no weight (", class_weights.size(), " classes)");
        out[i] = class_weights[static_cast<std::size_t>(labels[i])];
    }
    return out;
}

}  // namespace feral
