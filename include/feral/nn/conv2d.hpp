// feral/nn/conv2d.hpp — 2-D convolution, Keras' Conv2D, as im2col + packed GEMM.
//
// Shapes: input C x H x W, kernel F x (C*k*k) ("kernel", the rows of PyTorch's OIHW
// weight flattened: kernel(f, (c*k + i)*k + j) = torch_weight[f, c, i, j]; Keras' HWIO
// kernel is its transpose after reordering), bias 1 x F ("bias"), output F x OH x OW.
//
//   forward:   Y_n[F x OH*OW] = act(kernel * cols(X_n) + bias)       (per image n)
//   backward:  G_n = dY_n * act'(Y_n)
//              dkernel = sum_n G_n * cols(X_n)^T,   dbias_f = sum_n sum_p G_n[f, p]
//              dX_n = col2im(kernel^T * G_n)
// where cols() is im2col (detail/kernels/im2col.hpp). Padding follows Keras/TensorFlow:
//   valid:  OH = floor((H - k) / s) + 1, no padding (the kernel must fit: k <= H, W);
//   same:   OH = ceil(H / s), total padding max((OH - 1)*s + k - H, 0), the smaller half
//           on the top/left and the extra row/column on the bottom/right.
//
// Performance: a whole image's column matrix (C*k*k x OH*OW) is small for 48x48 faces
// (at most a few MB), so each image is one GEMM; images are spread over threads, each
// thread with its own workspace, allocated on the first batch and reused. The bias and
// the fused ReLU are applied in the GEMM epilogue. Backward recomputes the columns
// instead of keeping them from forward (they would cost N times the memory).
//
// Determinism: the kernel gradient is summed over fixed groups of kGroup images (each
// group accumulated in image order), then the groups are added in order, so the result is
// the same for every thread count.
//
// Defaults are Keras': 'valid' padding, stride 1, glorot_uniform kernel, zero bias.
//
// Example:
//   feral::nn::Conv2D<float> conv({.filters = 32, .kernel_size = 3,
//                                  .padding = feral::nn::Padding::same,
//                                  .activation = feral::nn::Activation::relu});
//   feral::Random rng(1);
//   feral::nn::Shape out = conv.build({1, 48, 48}, rng);      // 32 x 48 x 48
//   conv.forward(x, y, true);  conv.backward(x, y, dy, &dx);
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/threads.hpp"
#include "feral/detail/kernels/gemm.hpp"
#include "feral/detail/kernels/im2col.hpp"
#include "feral/nn/initializers.hpp"
#include "feral/nn/layer.hpp"
#include "feral/nn/relu.hpp"

#include <algorithm>
#include <string>
#include <vector>

namespace feral::nn {

enum class Padding : std::int32_t { valid, same };

inline std::string to_string(Padding p) { return p == Padding::same ? "same" : "valid"; }

/// Output size and padding along one dimension (Keras/TensorFlow rules, see conv2d.hpp).
struct PaddedExtent {
    Index out = 0, pad_before = 0, pad_after = 0;
};

inline PaddedExtent padded_extent(Index size, Index kernel, Index stride, Padding padding) {
    PaddedExtent e;
    if (padding == Padding::valid) {
        e.out = size >= kernel ? (size - kernel) / stride + 1 : 0;
    } else {
        e.out = (size + stride - 1) / stride;
        const Index total = std::max<Index>((e.out - 1) * stride + kernel - size, 0);
        e.pad_before = total / 2;
        e.pad_after = total - e.pad_before;
    }
    return e;
}

template <class T = float>
class Conv2D : public Layer<T> {
public:
    struct Config {
        Index filters = 0;                                  ///< output channels, > 0
        Index kernel_size = 3;                              ///< square kernel k x k
        Index stride = 1;
        Padding padding = Padding::valid;
        Activation activation = Activation::none;           ///< fused activation
        bool use_bias = true;
        Initializer kernel_initializer = Initializer::glorot_uniform;
    };

    /// Images per partial sum of the kernel gradient (fixed: results do not depend on threads).
    static constexpr Index kGroup = 4;

    Conv2D() = default;
    explicit Conv2D(Config config) : config_(config) {}

    [[nodiscard]] std::string type() const override { return "Conv2D"; }
    [[nodiscard]] std::string describe() const override {
        const auto k = std::to_string(config_.kernel_size);
        std::string s = std::to_string(config_.filters) + " filters " + k + "x" + k + " " + to_string(config_.padding);
        if (config_.stride != 1) s += ", stride " + std::to_string(config_.stride);
        if (config_.activation == Activation::relu) s += ", relu";
        if (!config_.use_bias) s += ", no bias";
        return s;
    }
    [[nodiscard]] const Config& config() const { return config_; }

    Shape build(const Shape& input, Random& rng) override {
        layer_detail::check_shape(input, "Conv2D::build");
        if (config_.filters <= 0) detail::fail("Conv2D::build: filters must be positive, got ", config_.filters);
        if (config_.kernel_size <= 0)
            detail::fail("Conv2D::build: kernel_size must be positive, got ", config_.kernel_size);
        if (config_.stride <= 0) detail::fail("Conv2D::build: stride must be positive, got ", config_.stride);
        if (config_.padding == Padding::valid && (config_.kernel_size > input.height || config_.kernel_size > input.width))
            detail::fail("Conv2D::build: kernel ", config_.kernel_size, "x", config_.kernel_size,
                         " is larger than the input ", to_string(input), " with 'valid' padding");
        const auto ey = padded_extent(input.height, config_.kernel_size, config_.stride, config_.padding);
        const auto ex = padded_extent(input.width, config_.kernel_size, config_.stride, config_.padding);
        geometry_ = {input.channels, input.height, input.width, config_.kernel_size, config_.kernel_size,
                     config_.stride, ey.pad_before, ex.pad_before, ey.out, ex.out};
        const Index k = config_.kernel_size;
        kernel_.resize(config_.filters, input.channels * k * k);
        initialize(kernel_, config_.kernel_initializer, input.channels * k * k, config_.filters * k * k, rng);
        kernel_grad_.setZero(kernel_.rows(), kernel_.cols());
        bias_.setZero(1, config_.use_bias ? config_.filters : 0);
        bias_grad_.setZero(1, bias_.cols());
        this->input_shape_ = input;
        this->output_shape_ = Shape{config_.filters, ey.out, ex.out};
        built_ = true;
        return this->output_shape_;
    }

    void forward(const Matrix<T>& input, Matrix<T>& output, bool) override {
        using namespace detail::kernels;
        layer_detail::check_input(input, this->input_shape_, built_, "Conv2D::forward");
        const Index n = input.rows(), filters = kernel_.rows(), depth = kernel_.cols();
        const Index spatial = geometry_.col_cols();
        output.resize(n, filters * spatial);
        const int slots = prepare_workspace(n);
        GemmEpilogue<T> e;
        e.row_bias = config_.use_bias ? bias_.data() : nullptr;
        e.relu = config_.activation == Activation::relu;
        parallel_for(0, slots, slots, [&](std::int64_t s0, std::int64_t s1) {
            for (std::int64_t s = s0; s < s1; ++s) {
                T* cols = workspace_[static_cast<std::size_t>(s)].cols.data();
                for (Index i = n * s / slots; i < n * (s + 1) / slots; ++i) {
                    im2col(input.row(i).data(), geometry_, cols);
                    gemm<T>(filters, spatial, depth, GemmOperand<T>::row_major(kernel_.data(), depth),
                            GemmOperand<T>::row_major(cols, spatial), output.row(i).data(), spatial, false, e);
                }
            }
        });
    }

    void backward(const Matrix<T>& input, const Matrix<T>& output, const Matrix<T>& grad_output,
                  Matrix<T>* grad_input) override {
        using namespace detail::kernels;
        layer_detail::check_input(input, this->input_shape_, built_, "Conv2D::backward");
        layer_detail::check_grad(input, grad_output, this->output_shape_, "Conv2D::backward");
        const Index n = input.rows(), filters = kernel_.rows(), depth = kernel_.cols();
        const Index spatial = geometry_.col_cols();
        const bool relu = config_.activation == Activation::relu;
        const Index groups = (n + kGroup - 1) / kGroup;
        const int slots = static_cast<int>(std::min<Index>(prepare_workspace(n), groups));
        partial_kernel_.resize(groups, filters * depth);
        partial_bias_.resize(groups, filters);
        if (grad_input) grad_input->resize(n, this->input_shape_.size());

        parallel_for(0, slots, slots, [&](std::int64_t s0, std::int64_t s1) {
            for (std::int64_t s = s0; s < s1; ++s) {
                auto& w = workspace_[static_cast<std::size_t>(s)];
                for (Index g = groups * s / slots; g < groups * (s + 1) / slots; ++g) {
                    T* dk = partial_kernel_.row(g).data();
                    T* db = partial_bias_.row(g).data();
                    std::fill(db, db + filters, T(0));
                    for (Index i = g * kGroup; i < std::min(n, (g + 1) * kGroup); ++i) {
                        const T* gy = grad_output.row(i).data();
                        if (relu) {
                            const T* y = output.row(i).data();
                            for (Index p = 0; p < filters * spatial; ++p) w.masked[p] = y[p] > T(0) ? gy[p] : T(0);
                            gy = w.masked.data();
                        }
                        im2col(input.row(i).data(), geometry_, w.cols.data());
                        // dkernel_group += G_i * cols_i^T   (F x depth, inner dimension the pixels)
                        gemm<T>(filters, depth, spatial, GemmOperand<T>::row_major(gy, spatial),
                                GemmOperand<T>::transposed(w.cols.data(), spatial), dk, depth, i != g * kGroup);
                        for (Index f = 0; f < filters; ++f) {
                            T sum = 0;
                            const T* row = gy + f * spatial;
                            for (Index p = 0; p < spatial; ++p) sum += row[p];
                            db[f] += sum;
                        }
                        if (grad_input) {
                            // dcols = kernel^T * G_i  (depth x pixels), folded back onto the image.
                            gemm<T>(depth, spatial, filters, GemmOperand<T>::transposed(kernel_.data(), depth),
                                    GemmOperand<T>::row_major(gy, spatial), w.dcols.data(), spatial, false);
                            col2im(w.dcols.data(), geometry_, grad_input->row(i).data());
                        }
                    }
                }
            }
        });
        // Sum the group partials in group order (fixed, whatever the thread count).
        kernel_grad_ = Eigen::Map<const Matrix<T>>(partial_kernel_.row(0).data(), filters, depth);
        for (Index g = 1; g < groups; ++g)
            kernel_grad_ += Eigen::Map<const Matrix<T>>(partial_kernel_.row(g).data(), filters, depth);
        if (config_.use_bias) {
            bias_grad_ = partial_bias_.row(0);
            for (Index g = 1; g < groups; ++g) bias_grad_ += partial_bias_.row(g);
        }
    }

    std::vector<Parameter<T>> parameters() override {
        std::vector<Parameter<T>> p{{"kernel", &kernel_, &kernel_grad_}};
        if (config_.use_bias) p.push_back({"bias", &bias_, &bias_grad_});
        return p;
    }

    void save_config(ByteWriter& out) const override {
        out.write<std::uint32_t>(1);
        out.write<std::int64_t>(config_.filters);
        out.write<std::int64_t>(config_.kernel_size);
        out.write<std::int64_t>(config_.stride);
        out.write<std::int32_t>(static_cast<std::int32_t>(config_.padding));
        out.write<std::int32_t>(static_cast<std::int32_t>(config_.activation));
        out.write<std::uint8_t>(config_.use_bias ? 1 : 0);
        out.write<std::int32_t>(static_cast<std::int32_t>(config_.kernel_initializer));
    }

    static LayerPtr<T> load_config(ByteReader& in) {
        layer_detail::check_config_version(in, 1, "Conv2D");
        Config c;
        c.filters = in.read<std::int64_t>();
        c.kernel_size = in.read<std::int64_t>();
        c.stride = in.read<std::int64_t>();
        const auto padding = in.read<std::int32_t>();
        if (padding != 0 && padding != 1)
            detail::fail<format_error>(in.source(), ": Conv2D configuration has unknown padding code ", padding);
        c.padding = static_cast<Padding>(padding);
        c.activation = activation_from_code(in.read<std::int32_t>(), in.source() + ": Conv2D");
        c.use_bias = in.read<std::uint8_t>() != 0;
        c.kernel_initializer = initializer_from_code(in.read<std::int32_t>(), in.source() + ": Conv2D");
        if (c.filters <= 0 || c.kernel_size <= 0 || c.stride <= 0)
            detail::fail<format_error>(in.source(), ": Conv2D configuration has filters ", c.filters, ", kernel_size ",
                                       c.kernel_size, ", stride ", c.stride, " (all must be positive)");
        return std::make_unique<Conv2D<T>>(c);
    }

    /// Direct access for tests and weight import (F x C*k*k / 1 x F).
    Matrix<T>& kernel() { return kernel_; }
    Matrix<T>& bias() { return bias_; }
    [[nodiscard]] const detail::kernels::ConvGeometry& geometry() const { return geometry_; }

private:
    struct Workspace {
        std::vector<T> cols, dcols, masked;
    };

    /// Sizes one workspace per thread slot (on first use; reused afterwards). Returns the slots.
    int prepare_workspace(Index n) {
        const int slots = static_cast<int>(
            std::min<Index>(resolve_threads(this->threads_), std::max<Index>(n, 1)));
        if (workspace_.size() < static_cast<std::size_t>(slots)) workspace_.resize(static_cast<std::size_t>(slots));
        const auto col_size = static_cast<std::size_t>(geometry_.col_rows() * geometry_.col_cols());
        const auto out_size = static_cast<std::size_t>(kernel_.rows() * geometry_.col_cols());
        for (auto& w : workspace_) {
            if (w.cols.size() < col_size) w.cols.resize(col_size);
            if (w.dcols.size() < col_size) w.dcols.resize(col_size);
            if (w.masked.size() < out_size) w.masked.resize(out_size);
        }
        return slots;
    }

    Config config_;
    bool built_ = false;
    detail::kernels::ConvGeometry geometry_;
    Matrix<T> kernel_, kernel_grad_, bias_, bias_grad_;
    Matrix<T> partial_kernel_, partial_bias_;  // per image group, summed in order
    std::vector<Workspace> workspace_;
};

}  // namespace feral::nn
