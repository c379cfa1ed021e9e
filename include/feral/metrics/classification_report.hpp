// feral/metrics/classification_report.hpp — per-class precision, recall, F1 and support,
// their averages, and scikit-learn's text report.
//
//   auto scores = feral::precision_recall_fscore_support(y_true, y_pred);
//   double macro_f1 = scores.average(feral::Average::macro).f1;
//   std::cout << feral::classification_report(y_true, y_pred, {.target_names = names});
//
// Definitions, for class c with tp true positives, fp false positives, fn false negatives:
//   precision = tp / (tp + fp)        recall = tp / (tp + fn)        support = tp + fn
//   F1 = 2 * precision * recall / (precision + recall)
// A zero denominator gives 0 (scikit-learn 1.2's zero_division="warn" value; feral does
// not print the warning). Averages:
//   micro     the same formulas on tp, fp, fn summed over the classes (equals accuracy
//             when every label is included),
//   macro     the unweighted mean of the per-class values,
//   weighted  the mean weighted by support (0 when the total support is 0).
// Results, and the report text character for character, equal scikit-learn 1.2's
// precision_recall_fscore_support and classification_report.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"
#include "feral/metrics/accuracy.hpp"
#include "feral/metrics/confusion_matrix.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace feral {

enum class Average { micro, macro, weighted };

/// Precision, recall, F1 (and the support they rest on) averaged over classes.
struct AveragedScores {
    double precision = 0;
    double recall = 0;
    double f1 = 0;
    std::int64_t support = 0;  ///< total number of true samples of the included labels
};

/// Per-class scores; every vector follows `labels`.
struct ClassScores {
    std::vector<int> labels;
    std::vector<double> precision;
    std::vector<double> recall;
    std::vector<double> f1;
    std::vector<std::int64_t> support;         ///< tp + fn: samples whose true label is this one
    std::vector<std::int64_t> true_positives;  ///< tp
    std::vector<std::int64_t> predicted;       ///< tp + fp: samples predicted as this label

    /// Scores averaged as `average` (see the header comment).
    [[nodiscard]] AveragedScores average(Average how) const;
};

namespace detail {
/// Numerator / denominator, or 0 when the denominator is 0 (scikit-learn's _prf_divide).
inline double ratio_or_zero(double numerator, double denominator) {
    return denominator == 0 ? 0.0 : numerator / denominator;
}
/// printf into a std::string of the exact length needed. C's %.*f rounds the exact
/// binary value half-to-even, as Python's format() does, so the digits agree.
template <class... Args>
std::string printf_string(const char* format, Args... args) {
    const int n = std::snprintf(nullptr, 0, format, args...);
    std::string text(static_cast<std::size_t>(n > 0 ? n : 0), '\0');
    std::snprintf(text.data(), text.size() + 1, format, args...);
    return text;
}
/// F1 from precision and recall, as scikit-learn 1.2 computes it (beta = 1).
inline double f1_from(double precision, double recall) {
    const double denominator = precision + recall;
    return 2.0 * precision * recall / (denominator == 0 ? 1.0 : denominator);
}
}  // namespace detail

inline AveragedScores ClassScores::average(Average how) const {
    AveragedScores out;
    for (auto s : support) out.support += s;
    const auto n = static_cast<double>(labels.size());
    switch (how) {
        case Average::micro: {
            std::int64_t tp = 0, pred = 0;
            for (std::size_t k = 0; k < labels.size(); ++k) {
                tp += true_positives[k];
                pred += predicted[k];
            }
            out.precision = detail::ratio_or_zero(static_cast<double>(tp), static_cast<double>(pred));
            out.recall = detail::ratio_or_zero(static_cast<double>(tp), static_cast<double>(out.support));
            out.f1 = detail::f1_from(out.precision, out.recall);
            break;
        }
        case Average::macro:
            for (std::size_t k = 0; k < labels.size(); ++k) {
                out.precision += precision[k];
                out.recall += recall[k];
                out.f1 += f1[k];
            }
            if (n > 0) {
                out.precision /= n;
                out.recall /= n;
                out.f1 /= n;
            }
            break;
        case Average::weighted:
            if (out.support == 0) break;  // scikit-learn returns the zero_division value
            for (std::size_t k = 0; k < labels.size(); ++k) {
                const auto w = static_cast<double>(support[k]);
                out.precision += precision[k] * w;
                out.recall += recall[k] * w;
                out.f1 += f1[k] * w;
            }
            out.precision /= static_cast<double>(out.support);
            out.recall /= static_cast<double>(out.support);
            out.f1 /= static_cast<double>(out.support);
            break;
    }
    return out;
}

/// Per-class precision, recall, F1 and support of y_pred against y_true, for `labels`
/// (empty: the sorted union of the labels in both). Labels absent from the data score 0.
/// Throws invalid_argument for mismatched or empty input or repeated labels.
inline ClassScores precision_recall_fscore_support(const ConstLabelsRef& y_true, const ConstLabelsRef& y_pred,
                                                   const std::vector<int>& labels = {}) {
    constexpr const char* where = "precision_recall_fscore_support";
    detail::check_label_pair(y_true, y_pred, where);
    ClassScores s;
    s.labels = labels.empty() ? detail::unique_labels(y_true, y_pred) : labels;
    for (std::size_t a = 0; a < s.labels.size(); ++a)
        for (std::size_t b = a + 1; b < s.labels.size(); ++b)
            if (s.labels[a] == s.labels[b]) detail::fail(where, ": label ", s.labels[a], " appears twice in labels");
    const std::size_t k = s.labels.size();
    s.true_positives.assign(k, 0);
    s.predicted.assign(k, 0);
    s.support.assign(k, 0);
    auto position = [&](int label) -> std::ptrdiff_t {
        const auto it = std::find(s.labels.begin(), s.labels.end(), label);
        return it == s.labels.end() ? -1 : it - s.labels.begin();
    };
    for (Index i = 0; i < y_true.size(); ++i) {
        const auto t = position(y_true[i]);
        const auto p = y_pred[i] == y_true[i] ? t : position(y_pred[i]);
        if (t >= 0) ++s.support[static_cast<std::size_t>(t)];
        if (p >= 0) ++s.predicted[static_cast<std::size_t>(p)];
        if (t >= 0 && y_pred[i] == y_true[i]) ++s.true_positives[static_cast<std::size_t>(t)];
    }
    s.precision.resize(k);
    s.recall.resize(k);
    s.f1.resize(k);
    for (std::size_t c = 0; c < k; ++c) {
        const auto tp = static_cast<double>(s.true_positives[c]);
        s.precision[c] = detail::ratio_or_zero(tp, static_cast<double>(s.predicted[c]));
        s.recall[c] = detail::ratio_or_zero(tp, static_cast<double>(s.support[c]));
        s.f1[c] = detail::f1_from(s.precision[c], s.recall[c]);
    }
    return s;
}

/// Options of classification_report (scikit-learn's keyword arguments).
struct ReportOptions {
    std::vector<int> labels = {};           ///< rows of the report; empty = sorted union of labels seen
    std::vector<std::string> target_names = {};  ///< display name per label; empty = the label numbers
    int digits = 2;                         ///< decimals of the scores
};

/// scikit-learn 1.2's classification_report text, character for character:
///
///                   precision    recall  f1-score   support
///
///              0       0.50      1.00      0.67         1
///              ...
///
///       accuracy                           0.60         5
///      macro avg       0.50      0.56      0.49         5
///   weighted avg       0.70      0.60      0.61         5
///
/// The "accuracy" line is the micro average when `labels` covers every label seen,
/// otherwise a "micro avg" line is printed. Throws invalid_argument when target_names
/// does not name every label or digits is negative.
inline std::string classification_report(const ConstLabelsRef& y_true, const ConstLabelsRef& y_pred,
                                         const ReportOptions& options = {}) {
    constexpr const char* where = "classification_report";
    detail::check_label_pair(y_true, y_pred, where);
    if (options.digits < 0 || options.digits > 17) detail::fail(where, ": digits must be in 0..17, got ", options.digits);
    const auto seen = detail::unique_labels(y_true, y_pred);
    const ClassScores scores = precision_recall_fscore_support(y_true, y_pred, options.labels);
    std::vector<int> sorted_labels = scores.labels;
    std::sort(sorted_labels.begin(), sorted_labels.end());
    const bool micro_is_accuracy = options.labels.empty() || sorted_labels == seen;

    std::vector<std::string> names = options.target_names;
    if (names.empty())
        for (int label : scores.labels) names.push_back(std::to_string(label));
    if (names.size() != scores.labels.size())
        detail::fail(where, ": ", names.size(), " target_names for ", scores.labels.size(),
                     " labels (give one name per label, or pass labels explicitly)");

    std::size_t width = std::string("weighted avg").size();
    for (const auto& name : names) width = std::max(width, name.size());
    width = std::max(width, static_cast<std::size_t>(options.digits));
    const int w = static_cast<int>(width);
    const int d = options.digits;

    std::string out;
    auto append_scores = [&](const std::string& name, double p, double r, double f, std::int64_t support) {
        out += detail::printf_string("%*s  %9.*f %9.*f %9.*f %9lld\n", w, name.c_str(), d, p, d, r, d, f,
                                     static_cast<long long>(support));
    };
    out += detail::printf_string("%*s  %9s %9s %9s %9s\n\n", w, "", "precision", "recall", "f1-score", "support");
    for (std::size_t c = 0; c < scores.labels.size(); ++c)
        append_scores(names[c], scores.precision[c], scores.recall[c], scores.f1[c], scores.support[c]);
    out += "\n";

    const AveragedScores micro = scores.average(Average::micro);
    if (micro_is_accuracy) {
        out += detail::printf_string("%*s  %9s %9s %9.*f %9lld\n", w, "accuracy", "", "", d, micro.f1,
                                     static_cast<long long>(micro.support));
    } else {
        append_scores("micro avg", micro.precision, micro.recall, micro.f1, micro.support);
    }
    const AveragedScores macro = scores.average(Average::macro);
    append_scores("macro avg", macro.precision, macro.recall, macro.f1, macro.support);
    const AveragedScores weighted = scores.average(Average::weighted);
    append_scores("weighted avg", weighted.precision, weighted.recall, weighted.f1, weighted.support);
    return out;
}

}  // namespace feral
