// feral/nn/softmax_cross_entropy.hpp — the fused, numerically stable softmax +
// cross-entropy loss for classification from logits.
//
// For a batch of N logit rows z_i and labels y_i in 0..K-1:
//   l_i = logsumexp(z_i) - z_i[y_i]          (computed with the max shifted out)
//   loss = (1/N) * sum_i w_i * l_i,          w_i = class_weight[y_i], or 1 without weights
//   dL/dz_i = (w_i / N) * (softmax(z_i) - onehot(y_i))
// Class weights follow Keras' `class_weight` convention: the weighted sum is divided by
// the batch size N, not by the sum of the weights (PyTorch's CrossEntropyLoss(weight=...)
// divides by sum w_i instead; multiply by N / sum w_i to convert).
//
// Example:
//   feral::nn::SoftmaxCrossEntropy<float> loss;
//   double l = loss.loss(logits, labels, &grad);                  // mean loss, grad written
//   Index hits = feral::nn::SoftmaxCrossEntropy<float>::count_correct(logits, labels);
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"

#include <cmath>
#include <span>
#include <string>

namespace feral::nn {

template <class T = float>
class SoftmaxCrossEntropy {
public:
    /// Mean (optionally class-weighted) loss of `logits` (N x K) against `labels` (N);
    /// writes dL/dlogits into *grad (resized to N x K) when grad is not nullptr.
    /// class_weight is empty (every class weighs 1) or has K non-negative entries.
    /// Throws invalid_argument for an empty batch, mismatched sizes, a label outside
    /// 0..K-1, a NaN/Inf logit (naming row and column) or bad class weights.
    double loss(const Matrix<T>& logits, ConstLabelsRef labels, Matrix<T>* grad = nullptr,
                std::span<const double> class_weight = {}) const {
        const Index n = logits.rows(), k = logits.cols();
        if (n == 0 || k == 0)
            detail::fail("SoftmaxCrossEntropy::loss: empty batch (", n, " samples x ", k, " classes)");
        if (labels.size() != n)
            detail::fail("SoftmaxCrossEntropy::loss: logits have ", n, " rows but there are ", labels.size(), " labels");
        if (!class_weight.empty()) {
            if (static_cast<Index>(class_weight.size()) != k)
                detail::fail("SoftmaxCrossEntropy::loss: ", class_weight.size(), " class weights for ", k, " classes");
            for (std::size_t c = 0; c < class_weight.size(); ++c)
                if (!(class_weight[c] >= 0.0) || !std::isfinite(class_weight[c]))
                    detail::fail("SoftmaxCrossEntropy::loss: class weight ", class_weight[c], " for class ", c,
                                 " must be finite and non-negative");
        }
        if (grad) grad->resize(n, k);
        double total = 0;
        for (Index i = 0; i < n; ++i) {
            const int y = labels[i];
            if (y < 0 || y >= k)
                detail::fail("SoftmaxCrossEntropy::loss: label ", y, " at row ", i, " is outside 0..", k - 1);
            const T* z = logits.row(i).data();
            double top = z[0];
            for (Index j = 0; j < k; ++j) {
                if (!std::isfinite(z[j]))
                    detail::fail("SoftmaxCrossEntropy::loss: logit ", z[j], " at row ", i, ", column ", j,
                                 " (NaN and infinite values are not allowed; the training has probably diverged)");
                top = std::max<double>(top, z[j]);
            }
            double sum = 0;
            for (Index j = 0; j < k; ++j) sum += std::exp(static_cast<double>(z[j]) - top);
            const double log_sum = std::log(sum) + top;
            const double w = class_weight.empty() ? 1.0 : class_weight[static_cast<std::size_t>(y)];
            total += w * (log_sum - static_cast<double>(z[y]));
            if (grad) {
                const double scale = w / static_cast<double>(n);
                T* g = grad->row(i).data();
                for (Index j = 0; j < k; ++j) {
                    const double p = std::exp(static_cast<double>(z[j]) - log_sum);
                    g[j] = static_cast<T>(scale * (p - (j == y ? 1.0 : 0.0)));
                }
            }
        }
        return total / static_cast<double>(n);
    }

    /// Number of rows whose largest logit (the first, on ties) is at the label's column.
    static Index count_correct(const Matrix<T>& logits, ConstLabelsRef labels) {
        if (labels.size() != logits.rows())
            detail::fail("SoftmaxCrossEntropy::count_correct: logits have ", logits.rows(), " rows but there are ",
                         labels.size(), " labels");
        Index hits = 0;
        for (Index i = 0; i < logits.rows(); ++i) {
            Index best = 0;
            logits.row(i).maxCoeff(&best);
            hits += best == labels[i];
        }
        return hits;
    }
};

}  // namespace feral::nn
