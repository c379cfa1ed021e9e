// feral/nn/max_pool2d.hpp — max pooling, Keras' MaxPooling2D with 'valid' padding.
//
//   forward:   y[c, oy, ox] = max_{i,j < pool} x[c, oy*s + i, ox*s + j]
//              output H' = floor((H - pool) / s) + 1 (Keras floors: trailing rows that do
//              not fill a window are dropped); stride s defaults to the pool size.
//   backward:  dx[c, argmax] += dy[c, oy, ox]; the argmax (the first maximum in row-major
//              window order, as PyTorch) is recorded by the last forward.
// Images are pooled in parallel; the kernels are in detail/kernels/pooling.hpp.
//
// Example:
//   feral::nn::MaxPool2D<float> pool({.pool_size = 2});   // 32x48x48 -> 32x24x24
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/threads.hpp"
#include "feral/detail/kernels/pooling.hpp"
#include "feral/nn/layer.hpp"
#include "feral/nn/relu.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace feral::nn {

namespace layer_detail {
/// Geometry of a 'valid' pooling window over `input`; throws naming `where` if it does not fit.
inline detail::kernels::ConvGeometry pool_geometry(const Shape& input, Index pool, Index stride,
                                                    const std::string& where) {
    check_shape(input, where);
    if (pool <= 0) detail::fail(where, ": pool_size must be positive, got ", pool);
    if (stride < 0) detail::fail(where, ": stride must be positive (or 0 = pool_size), got ", stride);
    if (pool > input.height || pool > input.width)
        detail::fail(where, ": pool ", pool, "x", pool, " is larger than the input ", to_string(input));
    const Index s = stride == 0 ? pool : stride;
    return {input.channels, input.height, input.width, pool, pool, s, 0, 0, (input.height - pool) / s + 1,
            (input.width - pool) / s + 1};
}
}  // namespace layer_detail

template <class T = float>
class MaxPool2D : public Layer<T> {
public:
    struct Config {
        Index pool_size = 2;  ///< square window pool x pool
        Index stride = 0;     ///< 0 = pool_size (Keras' default)
    };

    MaxPool2D() = default;
    explicit MaxPool2D(Config config) : config_(config) {}

    [[nodiscard]] std::string type() const override { return "MaxPool2D"; }
    [[nodiscard]] std::string describe() const override {
        const auto p = std::to_string(config_.pool_size);
        return p + "x" + p + (config_.stride != 0 && config_.stride != config_.pool_size
                                  ? ", stride " + std::to_string(config_.stride) : "");
    }
    [[nodiscard]] const Config& config() const { return config_; }

    Shape build(const Shape& input, Random&) override {
        geometry_ = layer_detail::pool_geometry(input, config_.pool_size, config_.stride, "MaxPool2D::build");
        this->input_shape_ = input;
        this->output_shape_ = Shape{input.channels, geometry_.out_h, geometry_.out_w};
        built_ = true;
        return this->output_shape_;
    }

    void forward(const Matrix<T>& input, Matrix<T>& output, bool) override {
        layer_detail::check_input(input, this->input_shape_, built_, "MaxPool2D::forward");
        const Index n = input.rows(), out = this->output_shape_.size();
        output.resize(n, out);
        argmax_.resize(static_cast<std::size_t>(n * out));
        parallel_for(0, n, layer_detail::threads_for(n, input.cols(), resolve_threads(this->threads_)),
                     [&](std::int64_t b, std::int64_t e) {
                         for (Index i = b; i < e; ++i)
                             detail::kernels::max_pool_forward(input.row(i).data(), geometry_, output.row(i).data(),
                                                               argmax_.data() + i * out);
                     });
        forward_rows_ = n;
    }

    void backward(const Matrix<T>& input, const Matrix<T>&, const Matrix<T>& grad_output,
                  Matrix<T>* grad_input) override {
        layer_detail::check_input(input, this->input_shape_, built_, "MaxPool2D::backward");
        layer_detail::check_grad(input, grad_output, this->output_shape_, "MaxPool2D::backward");
        if (forward_rows_ != input.rows())
            detail::fail("MaxPool2D::backward: the last forward saw ", forward_rows_, " samples, this batch has ",
                         input.rows(), " (call forward on the same batch first)");
        if (!grad_input) return;
        const Index n = input.rows(), out = this->output_shape_.size();
        grad_input->resize(n, input.cols());
        parallel_for(0, n, layer_detail::threads_for(n, input.cols(), resolve_threads(this->threads_)),
                     [&](std::int64_t b, std::int64_t e) {
                         for (Index i = b; i < e; ++i)
                             detail::kernels::max_pool_backward(grad_output.row(i).data(), argmax_.data() + i * out,
                                                                geometry_, grad_input->row(i).data());
                     });
    }

    void save_config(ByteWriter& out) const override {
        out.write<std::uint32_t>(1);
        out.write<std::int64_t>(config_.pool_size);
        out.write<std::int64_t>(config_.stride);
    }

    static LayerPtr<T> load_config(ByteReader& in) {
        layer_detail::check_config_version(in, 1, "MaxPool2D");
        Config c;
        c.pool_size = in.read<std::int64_t>();
        c.stride = in.read<std::int64_t>();
        if (c.pool_size <= 0 || c.stride < 0)
            detail::fail<format_error>(in.source(), ": MaxPool2D configuration has pool_size ", c.pool_size,
                                       ", stride ", c.stride);
        return std::make_unique<MaxPool2D<T>>(c);
    }

private:
    Config config_;
    bool built_ = false;
    detail::kernels::ConvGeometry geometry_;
    std::vector<std::int32_t> argmax_;  // per output value: flat index into its image
    Index forward_rows_ = -1;
};

}  // namespace feral::nn
