// feral/detail/class_weight.hpp — per-class weights for classifiers (scikit-learn's
// `class_weight`), shared by DecisionTreeClassifier, RandomForestClassifier, SVC and
// LinearSVC.
//
//   ClassWeight::none()                 every class weighs 1 (the default)
//   ClassWeight::balanced()             n_samples / (n_classes * count(class))
//   ClassWeight::balanced_subsample()   as balanced, recomputed on each bootstrap sample
//                                       (RandomForestClassifier only)
//   ClassWeight::custom({{3, 2.0}})     label 3 weighs 2, unlisted labels weigh 1
//
// Trees multiply sample weights by the class weight; the SVMs multiply C by it
// (libsvm / liblinear semantics).
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/types.hpp"
#include "feral/models/class_labels.hpp"

#include <cmath>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace feral {

struct ClassWeight {
    enum class Mode : std::int32_t { none, balanced, balanced_subsample, custom };
    Mode mode = Mode::none;
    std::vector<std::pair<int, double>> weights;  ///< (label, weight) pairs for Mode::custom

    static ClassWeight none() { return {}; }
    static ClassWeight balanced() { return {Mode::balanced, {}}; }
    static ClassWeight balanced_subsample() { return {Mode::balanced_subsample, {}}; }
    static ClassWeight custom(std::vector<std::pair<int, double>> w) { return {Mode::custom, std::move(w)}; }

    /// Weight of each dense class index 0..k-1, given the dense labels seen by fit.
    /// balanced_subsample answers as balanced here (the forest recomputes it per tree).
    /// Throws invalid_argument for a custom label the classifier has not seen or a
    /// weight that is not a positive finite number.
    [[nodiscard]] std::vector<double> per_class(const ClassLabels& classes, const Labels& dense, std::string_view where) const {
        const auto k = static_cast<std::size_t>(classes.size());
        std::vector<double> out(k, 1.0);
        if (mode == Mode::balanced || mode == Mode::balanced_subsample) {
            std::vector<double> counts(k, 0.0);
            for (Index i = 0; i < dense.size(); ++i) counts[static_cast<std::size_t>(dense[i])] += 1.0;
            for (std::size_t c = 0; c < k; ++c)
                out[c] = static_cast<double>(dense.size()) / (static_cast<double>(k) * counts[c]);
        } else if (mode == Mode::custom) {
            for (const auto& [label, w] : weights) {
                const int c = classes.index_of(label);
                if (c < 0)
                    detail::fail(where, ": class_weight names label ", label, ", which is not in y (classes: ", classes.list(), ")");
                if (!(w > 0.0) || !std::isfinite(w))
                    detail::fail(where, ": class_weight for label ", label, " is ", w, "; expected a positive finite number");
                out[static_cast<std::size_t>(c)] = w;
            }
        }
        return out;
    }

    void save(ByteWriter& out) const {
        out.write(mode);
        std::vector<int> labels;
        std::vector<double> values;
        for (const auto& [label, w] : weights) {
            labels.push_back(label);
            values.push_back(w);
        }
        out.write_vector(labels);
        out.write_vector(values);
    }
    void load(ByteReader& in) {
        mode = in.read<Mode>();
        if (static_cast<std::int32_t>(mode) < 0 || static_cast<std::int32_t>(mode) > 3)
            detail::fail<format_error>(in.source(), ": corrupt class_weight mode");
        const auto labels = in.read_vector<int>();
        const auto values = in.read_vector<double>();
        if (labels.size() != values.size()) detail::fail<format_error>(in.source(), ": corrupt class_weight table");
        weights.clear();
        for (std::size_t i = 0; i < labels.size(); ++i) weights.emplace_back(labels[i], values[i]);
    }
};

}  // namespace feral
