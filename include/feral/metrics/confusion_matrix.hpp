// feral/metrics/confusion_matrix.hpp — counts of (true class, predicted class) pairs.
//
//   auto cm = feral::confusion_matrix(y_true, y_pred);
//   cm.counts(i, j)   // samples of class cm.labels[i] predicted as cm.labels[j]
//
// As scikit-learn's confusion_matrix: rows are true labels, columns predicted labels,
// both in the order of `labels` — by default the sorted union of the labels present in
// y_true and y_pred. Pairs whose true or predicted label is not in `labels` are not
// counted. The diagonal holds the correct predictions.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"
#include "feral/metrics/accuracy.hpp"

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace feral {

/// Integer counts, row-major.
using CountMatrix = Eigen::Matrix<std::int64_t, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct ConfusionMatrix {
    std::vector<int> labels;  ///< the label of each row and column
    CountMatrix counts;       ///< counts(i, j): true labels[i], predicted labels[j]
};

/// The confusion matrix of y_pred against y_true over `labels` (empty: the sorted
/// union of both). Throws invalid_argument for mismatched or empty input, repeated
/// entries in `labels`, or `labels` that contain none of y_true's labels.
inline ConfusionMatrix confusion_matrix(const ConstLabelsRef& y_true, const ConstLabelsRef& y_pred,
                                        const std::vector<int>& labels = {}) {
    constexpr const char* where = "confusion_matrix";
    detail::check_label_pair(y_true, y_pred, where);
    ConfusionMatrix cm;
    cm.labels = labels.empty() ? detail::unique_labels(y_true, y_pred) : labels;
    std::unordered_map<int, Index> position;
    for (std::size_t k = 0; k < cm.labels.size(); ++k)
        if (!position.emplace(cm.labels[k], static_cast<Index>(k)).second)
            detail::fail(where, ": label ", cm.labels[k], " appears twice in labels");
    const auto n_labels = static_cast<Index>(cm.labels.size());
    cm.counts = CountMatrix::Zero(n_labels, n_labels);
    bool any_true_label = false;
    for (Index i = 0; i < y_true.size(); ++i) {
        const auto t = position.find(y_true[i]);
        if (t == position.end()) continue;
        any_true_label = true;
        const auto p = position.find(y_pred[i]);
        if (p == position.end()) continue;
        ++cm.counts(t->second, p->second);
    }
    if (!any_true_label) detail::fail(where, ": none of the given labels occurs in y_true");
    return cm;
}

}  // namespace feral
