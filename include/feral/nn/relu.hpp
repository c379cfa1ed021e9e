// feral/nn/relu.hpp — the ReLU layer, and the fused-activation switch used by Conv2D and
// Dense (which apply ReLU in their GEMM epilogue instead of a separate pass).
//
//   forward:   y = max(x, 0)
//   backward:  dx = dy * [y > 0]       (the derivative at 0 is taken as 0, as PyTorch)
//
// Example:
//   feral::nn::ReLU<float> relu;  relu.build({32, 24, 24}, rng);  relu.forward(x, y, true);
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/threads.hpp"
#include "feral/nn/layer.hpp"

#include <cstdint>
#include <string>

namespace feral::nn {

/// Activation fused into a layer's output.
enum class Activation : std::int32_t { none, relu };

inline std::string to_string(Activation a) { return a == Activation::relu ? "relu" : "linear"; }

inline Activation activation_from_code(std::int32_t code, const std::string& where) {
    if (code != 0 && code != 1) detail::fail<format_error>(where, ": unknown activation code ", code);
    return static_cast<Activation>(code);
}

namespace layer_detail {

/// Layers check their inputs against the built shape with these.
template <class T>
void check_input(const Matrix<T>& input, const Shape& shape, bool built, const std::string& where) {
    if (!built) detail::fail(where, ": the layer is not built (call build(input_shape, rng) first)");
    if (input.rows() == 0) detail::fail(where, ": empty batch (0 rows)");
    if (input.cols() != shape.size())
        detail::fail(where, ": input has ", input.cols(), " values per sample, but the layer was built for shape ",
                     to_string(shape), " (", shape.size(), " values)");
}

template <class T>
void check_grad(const Matrix<T>& input, const Matrix<T>& grad_output, const Shape& out_shape,
                const std::string& where) {
    if (grad_output.rows() != input.rows() || grad_output.cols() != out_shape.size())
        detail::fail(where, ": grad_output is ", grad_output.rows(), " x ", grad_output.cols(), ", expected ",
                     input.rows(), " x ", out_shape.size(), " (the last forward's batch and the output shape)");
}

inline void check_shape(const Shape& s, const std::string& where) {
    if (s.channels <= 0 || s.height <= 0 || s.width <= 0)
        detail::fail(where, ": input shape must be positive in every dimension, got ", to_string(s));
}

inline void check_config_version(ByteReader& in, std::uint32_t expected, const std::string& where) {
    const auto version = in.read<std::uint32_t>();
    if (version != expected)
        detail::fail<format_error>(in.source(), ": ", where, " configuration version ", version, ", expected ",
                                   expected);
}

/// Rows of work of `cost` scalar operations each, split in chunks worth the thread start-up.
inline int threads_for(Index rows, Index cost_per_row, int threads) {
    return static_cast<double>(rows) * static_cast<double>(cost_per_row) < 65536.0 ? 1 : threads;
}

}  // namespace layer_detail

template <class T = float>
class ReLU : public Layer<T> {
public:
    [[nodiscard]] std::string type() const override { return "ReLU"; }

    Shape build(const Shape& input, Random&) override {
        layer_detail::check_shape(input, "ReLU::build");
        this->input_shape_ = this->output_shape_ = input;
        built_ = true;
        return input;
    }

    void forward(const Matrix<T>& input, Matrix<T>& output, bool) override {
        layer_detail::check_input(input, this->input_shape_, built_, "ReLU::forward");
        output.resize(input.rows(), input.cols());
        const T* x = input.data();
        T* y = output.data();
        for (Index i = 0; i < input.size(); ++i) y[i] = x[i] > T(0) ? x[i] : T(0);
    }

    void backward(const Matrix<T>& input, const Matrix<T>& output, const Matrix<T>& grad_output,
                  Matrix<T>* grad_input) override {
        layer_detail::check_grad(input, grad_output, this->output_shape_, "ReLU::backward");
        if (!grad_input) return;
        grad_input->resize(input.rows(), input.cols());
        grad_input->array() = (output.array() > T(0)).select(grad_output.array(), T(0));
    }

    void save_config(ByteWriter& out) const override { out.write<std::uint32_t>(1); }

    static LayerPtr<T> load_config(ByteReader& in) {
        layer_detail::check_config_version(in, 1, "ReLU");
        return std::make_unique<ReLU<T>>();
    }

private:
    bool built_ = false;
};

}  // namespace feral::nn
