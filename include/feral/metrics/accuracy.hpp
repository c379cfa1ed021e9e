// feral/metrics/accuracy.hpp — the fraction of correct predictions.
//
//   double a = feral::accuracy_score(y_true, y_pred);   // in [0, 1], never percent
//
// Equal to scikit-learn's accuracy_score (without sample weights). Labels may be any
// integers; the two vectors must have the same non-zero length.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace feral {

namespace detail {
/// Shared checks of every label metric: same length, not empty.
inline void check_label_pair(const ConstLabelsRef& y_true, const ConstLabelsRef& y_pred, std::string_view where) {
    if (y_true.size() != y_pred.size())
        fail(where, ": y_true has ", y_true.size(), " labels but y_pred has ", y_pred.size());
    if (y_true.size() == 0) fail(where, ": empty input (0 labels)");
}

/// Sorted distinct values of y_true and y_pred together (scikit-learn's unique_labels).
inline std::vector<int> unique_labels(const ConstLabelsRef& y_true, const ConstLabelsRef& y_pred) {
    std::vector<int> labels(y_true.data(), y_true.data() + y_true.size());
    labels.insert(labels.end(), y_pred.data(), y_pred.data() + y_pred.size());
    std::sort(labels.begin(), labels.end());
    labels.erase(std::unique(labels.begin(), labels.end()), labels.end());
    return labels;
}
}  // namespace detail

/// Fraction of positions where y_pred equals y_true, in [0, 1].
/// Throws invalid_argument if the lengths differ or the input is empty.
inline double accuracy_score(const ConstLabelsRef& y_true, const ConstLabelsRef& y_pred) {
    detail::check_label_pair(y_true, y_pred, "accuracy_score");
    const auto correct = (y_true.array() == y_pred.array()).count();
    return static_cast<double>(correct) / static_cast<double>(y_true.size());
}

}  // namespace feral
