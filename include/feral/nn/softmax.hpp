// feral/nn/softmax.hpp — the softmax layer (probabilities out of logits, per sample).
//
//   forward:   y_j = exp(x_j - max x) / sum_k exp(x_k - max x)     (shifted: never overflows)
//   backward:  dx_j = y_j * (dy_j - sum_k dy_k y_k)
//
// For training a classifier, prefer a linear last layer and SoftmaxCrossEntropy
// (softmax_cross_entropy.hpp), which fuses both and is more accurate; this layer is for
// models that must output probabilities.
#pragma once

#include "feral/core/threads.hpp"
#include "feral/nn/layer.hpp"
#include "feral/nn/relu.hpp"

#include <cmath>
#include <string>

namespace feral::nn {

template <class T = float>
class Softmax : public Layer<T> {
public:
    [[nodiscard]] std::string type() const override { return "Softmax"; }

    Shape build(const Shape& input, Random&) override {
        layer_detail::check_shape(input, "Softmax::build");
        this->input_shape_ = this->output_shape_ = input;
        built_ = true;
        return input;
    }

    void forward(const Matrix<T>& input, Matrix<T>& output, bool) override {
        layer_detail::check_input(input, this->input_shape_, built_, "Softmax::forward");
        output.resize(input.rows(), input.cols());
        parallel_for(0, input.rows(), layer_detail::threads_for(input.rows(), 8 * input.cols(), resolve_threads(this->threads_)),
                     [&](std::int64_t b, std::int64_t e) {
                         const Index k = input.cols();
                         for (Index i = b; i < e; ++i) {
                             const T* x = input.row(i).data();
                             T* y = output.row(i).data();
                             T shift = x[0];
                             for (Index j = 1; j < k; ++j) shift = x[j] > shift ? x[j] : shift;
                             T sum = 0;
                             for (Index j = 0; j < k; ++j) sum += (y[j] = std::exp(x[j] - shift));
                             const T inv = T(1) / sum;
                             for (Index j = 0; j < k; ++j) y[j] *= inv;
                         }
                     });
    }

    void backward(const Matrix<T>& input, const Matrix<T>& output, const Matrix<T>& grad_output,
                  Matrix<T>* grad_input) override {
        layer_detail::check_grad(input, grad_output, this->output_shape_, "Softmax::backward");
        if (!grad_input) return;
        grad_input->resize(input.rows(), input.cols());
        const Index k = input.cols();
        for (Index i = 0; i < input.rows(); ++i) {
            const T* y = output.row(i).data();
            const T* dy = grad_output.row(i).data();
            T* dx = grad_input->row(i).data();
            T dot = 0;
            for (Index j = 0; j < k; ++j) dot += dy[j] * y[j];
            for (Index j = 0; j < k; ++j) dx[j] = y[j] * (dy[j] - dot);
        }
    }

    void save_config(ByteWriter& out) const override { out.write<std::uint32_t>(1); }

    static LayerPtr<T> load_config(ByteReader& in) {
        layer_detail::check_config_version(in, 1, "Softmax");
        return std::make_unique<Softmax<T>>();
    }

private:
    bool built_ = false;
};

}  // namespace feral::nn
