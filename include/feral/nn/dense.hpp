// feral/nn/dense.hpp — a fully connected layer, Keras' Dense.
//
//   forward:   Y[N x units] = act(X[N x in] * W[in x units] + b)
//   backward:  G = dY * act'(Y)  (the ReLU mask when fused, else dY)
//              dW = X^T G,  db = column sums of G,  dX = G W^T
//
// The kernel is stored as Keras stores it, in x units ("kernel"); PyTorch's Linear keeps
// the transpose (units x in). The bias ("bias") is 1 x units. Any input shape is accepted:
// a sample's C*H*W values are its features (rows are already flat), and the output shape
// is {units, 1, 1}. All three products run on the packed GEMM (detail/kernels/gemm.hpp)
// split over threads by tiles of the result, so results do not depend on the thread
// count; bias and ReLU are applied in the GEMM epilogue.
//
// Defaults are Keras': glorot_uniform kernel, zero bias, no activation.
//
// Example:
//   feral::nn::Dense<float> fc({.units = 128, .activation = feral::nn::Activation::relu});
//   feral::Random rng(1);  fc.build({64, 6, 6}, rng);
//   fc.forward(x, y, true);  fc.backward(x, y, dy, &dx);
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/threads.hpp"
#include "feral/detail/kernels/gemm.hpp"
#include "feral/nn/initializers.hpp"
#include "feral/nn/layer.hpp"
#include "feral/nn/relu.hpp"

#include <string>

namespace feral::nn {

template <class T = float>
class Dense : public Layer<T> {
public:
    struct Config {
        Index units = 0;                                   ///< output features, > 0
        Activation activation = Activation::none;          ///< fused activation
        bool use_bias = true;
        Initializer kernel_initializer = Initializer::glorot_uniform;
    };

    Dense() = default;
    explicit Dense(Config config) : config_(config) {}

    [[nodiscard]] std::string type() const override { return "Dense"; }
    [[nodiscard]] std::string describe() const override {
        return std::to_string(config_.units) + " units" +
               (config_.activation == Activation::relu ? ", relu" : "") + (config_.use_bias ? "" : ", no bias");
    }
    [[nodiscard]] const Config& config() const { return config_; }

    Shape build(const Shape& input, Random& rng) override {
        layer_detail::check_shape(input, "Dense::build");
        if (config_.units <= 0) detail::fail("Dense::build: units must be positive, got ", config_.units);
        const Index in = input.size();
        kernel_.resize(in, config_.units);
        initialize(kernel_, config_.kernel_initializer, in, config_.units, rng);
        kernel_grad_.setZero(in, config_.units);
        bias_.setZero(1, config_.use_bias ? config_.units : 0);
        bias_grad_.setZero(1, bias_.cols());
        this->input_shape_ = input;
        this->output_shape_ = Shape{config_.units, 1, 1};
        built_ = true;
        return this->output_shape_;
    }

    void forward(const Matrix<T>& input, Matrix<T>& output, bool) override {
        using namespace detail::kernels;
        layer_detail::check_input(input, this->input_shape_, built_, "Dense::forward");
        const Index n = input.rows(), in = kernel_.rows(), units = kernel_.cols();
        output.resize(n, units);
        GemmEpilogue<T> e;
        e.col_bias = config_.use_bias ? bias_.data() : nullptr;
        e.relu = config_.activation == Activation::relu;
        gemm_parallel<T>(n, units, in, GemmOperand<T>::row_major(input.data(), in),
                         GemmOperand<T>::row_major(kernel_.data(), units), output.data(), units, false, e,
                         resolve_threads(this->threads_));
    }

    void backward(const Matrix<T>& input, const Matrix<T>& output, const Matrix<T>& grad_output,
                  Matrix<T>* grad_input) override {
        using namespace detail::kernels;
        layer_detail::check_input(input, this->input_shape_, built_, "Dense::backward");
        layer_detail::check_grad(input, grad_output, this->output_shape_, "Dense::backward");
        const Index n = input.rows(), in = kernel_.rows(), units = kernel_.cols();
        const int threads = resolve_threads(this->threads_);
        const Matrix<T>* g = &grad_output;
        if (config_.activation == Activation::relu) {
            masked_.resize(n, units);
            masked_.array() = (output.array() > T(0)).select(grad_output.array(), T(0));
            g = &masked_;
        }
        // dW = X^T G (in x units), inner dimension the batch.
        gemm_parallel<T>(in, units, n, GemmOperand<T>::transposed(input.data(), in),
                         GemmOperand<T>::row_major(g->data(), units), kernel_grad_.data(), units, false, {}, threads);
        if (config_.use_bias) {
            bias_grad_.setZero();
            for (Index i = 0; i < n; ++i) bias_grad_ += g->row(i);  // rows in order: deterministic
        }
        if (grad_input) {
            grad_input->resize(n, in);
            gemm_parallel<T>(n, in, units, GemmOperand<T>::row_major(g->data(), units),
                             GemmOperand<T>::transposed(kernel_.data(), units), grad_input->data(), in, false, {},
                             threads);
        }
    }

    std::vector<Parameter<T>> parameters() override {
        std::vector<Parameter<T>> p{{"kernel", &kernel_, &kernel_grad_}};
        if (config_.use_bias) p.push_back({"bias", &bias_, &bias_grad_});
        return p;
    }

    void save_config(ByteWriter& out) const override {
        out.write<std::uint32_t>(1);
        out.write<std::int64_t>(config_.units);
        out.write<std::int32_t>(static_cast<std::int32_t>(config_.activation));
        out.write<std::uint8_t>(config_.use_bias ? 1 : 0);
        out.write<std::int32_t>(static_cast<std::int32_t>(config_.kernel_initializer));
    }

    static LayerPtr<T> load_config(ByteReader& in) {
        layer_detail::check_config_version(in, 1, "Dense");
        Config c;
        c.units = in.read<std::int64_t>();
        c.activation = activation_from_code(in.read<std::int32_t>(), in.source() + ": Dense");
        c.use_bias = in.read<std::uint8_t>() != 0;
        c.kernel_initializer = initializer_from_code(in.read<std::int32_t>(), in.source() + ": Dense");
        if (c.units <= 0) detail::fail<format_error>(in.source(), ": Dense configuration has units ", c.units);
        return std::make_unique<Dense<T>>(c);
    }

    /// Direct access for tests and weight import (in x units / 1 x units).
    Matrix<T>& kernel() { return kernel_; }
    Matrix<T>& bias() { return bias_; }

private:
    Config config_;
    bool built_ = false;
    Matrix<T> kernel_, kernel_grad_, bias_, bias_grad_;
    Matrix<T> masked_;  // workspace: dY masked by the fused ReLU
};

}  // namespace feral::nn
