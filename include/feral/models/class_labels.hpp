// feral/models/class_labels.hpp — the set of classes a classifier was fitted on.
//
// Classifiers accept any non-negative integer labels (FER2013 uses 0..6; a 6-class
// study without "disgust" uses 0 and 2..6). ClassLabels records the sorted distinct
// labels seen by fit (scikit-learn's `classes_`), maps them to dense indices 0..k-1
// for the algorithms, and maps predictions back. predict_proba columns follow
// classes(). Fitting needs at least two classes; scoring against a label the model
// never saw is an error, not a silent zero.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/types.hpp"

#include <algorithm>
#include <string_view>
#include <vector>

namespace feral {

class ClassLabels {
public:
    /// Learns the classes of y. Throws invalid_argument for fewer than two classes.
    void fit(const ConstLabelsRef& y, std::string_view where) {
        classes_.assign(y.data(), y.data() + y.size());
        std::sort(classes_.begin(), classes_.end());
        classes_.erase(std::unique(classes_.begin(), classes_.end()), classes_.end());
        if (classes_.size() < 2)
            detail::fail(where, ": y has ", classes_.size(), " distinct class",
                         classes_.size() == 1 ? " (" + std::to_string(classes_[0]) + ")" : std::string("es"),
                         "; a classifier needs at least 2");
        if (classes_.front() < 0) detail::fail(where, ": label ", classes_.front(), " is negative");
        lookup_.assign(static_cast<std::size_t>(classes_.back()) + 1, -1);
        for (std::size_t k = 0; k < classes_.size(); ++k) lookup_[static_cast<std::size_t>(classes_[k])] = static_cast<int>(k);
    }

    [[nodiscard]] const std::vector<int>& classes() const { return classes_; }
    [[nodiscard]] Index size() const { return static_cast<Index>(classes_.size()); }
    [[nodiscard]] bool empty() const { return classes_.empty(); }

    /// Dense index (0..k-1) of `label`, or -1 if the model never saw it.
    [[nodiscard]] int index_of(int label) const {
        if (label < 0 || static_cast<std::size_t>(label) >= lookup_.size()) return -1;
        return lookup_[static_cast<std::size_t>(label)];
    }

    /// y as dense indices; throws invalid_argument naming the first unseen label and its row.
    [[nodiscard]] Labels encode(const ConstLabelsRef& y, std::string_view where) const {
        Labels out(y.size());
        for (Index i = 0; i < y.size(); ++i) {
            const int k = index_of(y[i]);
            if (k < 0)
                detail::fail(where, ": label ", y[i], " at row ", i, " was not seen during fit (classes: ", list(), ")");
            out[i] = k;
        }
        return out;
    }

    /// Dense index -> original label.
    [[nodiscard]] int decode(Index k) const { return classes_[static_cast<std::size_t>(k)]; }

    /// The label of each row's largest score (one column per class, in classes() order).
    /// Ties go to the first column, the smallest label, as numpy.argmax.
    template <class Derived>
    [[nodiscard]] Labels decode_argmax(const Eigen::MatrixBase<Derived>& scores) const {
        Labels out(scores.rows());
        for (Index i = 0; i < scores.rows(); ++i) {
            Index best = 0;
            for (Index k = 1; k < scores.cols(); ++k)
                if (scores(i, k) > scores(i, best)) best = k;
            out[i] = decode(best);
        }
        return out;
    }

    [[nodiscard]] std::string list() const {
        std::string s;
        for (std::size_t k = 0; k < classes_.size(); ++k) s += (k ? ", " : "") + std::to_string(classes_[k]);
        return s;
    }

    void save(ByteWriter& out) const { out.write_vector(classes_); }
    void load(ByteReader& in) {
        classes_ = in.read_vector<int>();
        lookup_.clear();
        if (classes_.empty()) return;
        if (!std::is_sorted(classes_.begin(), classes_.end()) || classes_.front() < 0)
            detail::fail<format_error>(in.source(), ": corrupt class list");
        lookup_.assign(static_cast<std::size_t>(classes_.back()) + 1, -1);
        for (std::size_t k = 0; k < classes_.size(); ++k) lookup_[static_cast<std::size_t>(classes_[k])] = static_cast<int>(k);
    }

private:
    std::vector<int> classes_;
    std::vector<int> lookup_;
};

/// Mean accuracy in [0, 1] of `predicted` against `truth`; every truth label must be
/// known to `classes` (the estimator's score() contract).
inline double accuracy_against(const Labels& predicted, const ConstLabelsRef& truth, const ClassLabels& classes,
                               std::string_view where) {
    if (predicted.size() != truth.size())
        detail::fail(where, ": ", predicted.size(), " predictions but ", truth.size(), " labels");
    if (truth.size() == 0) detail::fail(where, ": empty input");
    (void)classes.encode(truth, where);
    return static_cast<double>((predicted.array() == truth.array()).count()) / static_cast<double>(truth.size());
}

}  // namespace feral
