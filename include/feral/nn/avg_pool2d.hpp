// feral/nn/avg_pool2d.hpp — average pooling, Keras' AveragePooling2D with 'valid' padding.
//
//   forward:   y[c, oy, ox] = mean_{i,j < pool} x[c, oy*s + i, ox*s + j]
//              output H' = floor((H - pool) / s) + 1; stride s defaults to the pool size.
//   backward:  every input in a window receives dy / pool^2 (overlapping windows add).
//
// Example:
//   feral::nn::AvgPool2D<float> pool({.pool_size = 2});
#pragma once

#include "feral/nn/max_pool2d.hpp"

namespace feral::nn {

template <class T = float>
class AvgPool2D : public Layer<T> {
public:
    struct Config {
        Index pool_size = 2;  ///< square window pool x pool
        Index stride = 0;     ///< 0 = pool_size (Keras' default)
    };

    AvgPool2D() = default;
    explicit AvgPool2D(Config config) : config_(config) {}

    [[nodiscard]] std::string type() const override { return "AvgPool2D"; }
    [[nodiscard]] std::string describe() const override {
        const auto p = std::to_string(config_.pool_size);
        return p + "x" + p + (config_.stride != 0 && config_.stride != config_.pool_size
                                  ? ", stride " + std::to_string(config_.stride) : "");
    }
    [[nodiscard]] const Config& config() const { return config_; }

    Shape build(const Shape& input, Random&) override {
        geometry_ = layer_detail::pool_geometry(input, config_.pool_size, config_.stride, "AvgPool2D::build");
        this->input_shape_ = input;
        this->output_shape_ = Shape{input.channels, geometry_.out_h, geometry_.out_w};
        built_ = true;
        return this->output_shape_;
    }

    void forward(const Matrix<T>& input, Matrix<T>& output, bool) override {
        layer_detail::check_input(input, this->input_shape_, built_, "AvgPool2D::forward");
        const Index n = input.rows();
        output.resize(n, this->output_shape_.size());
        parallel_for(0, n, layer_detail::threads_for(n, input.cols(), resolve_threads(this->threads_)),
                     [&](std::int64_t b, std::int64_t e) {
                         for (Index i = b; i < e; ++i)
                             detail::kernels::avg_pool_forward(input.row(i).data(), geometry_, output.row(i).data());
                     });
    }

    void backward(const Matrix<T>& input, const Matrix<T>&, const Matrix<T>& grad_output,
                  Matrix<T>* grad_input) override {
        layer_detail::check_input(input, this->input_shape_, built_, "AvgPool2D::backward");
        layer_detail::check_grad(input, grad_output, this->output_shape_, "AvgPool2D::backward");
        if (!grad_input) return;
        const Index n = input.rows();
        grad_input->resize(n, input.cols());
        parallel_for(0, n, layer_detail::threads_for(n, input.cols(), resolve_threads(this->threads_)),
                     [&](std::int64_t b, std::int64_t e) {
                         for (Index i = b; i < e; ++i)
                             detail::kernels::avg_pool_backward(grad_output.row(i).data(), geometry_,
                                                                grad_input->row(i).data());
                     });
    }

    void save_config(ByteWriter& out) const override {
        out.write<std::uint32_t>(1);
        out.write<std::int64_t>(config_.pool_size);
        out.write<std::int64_t>(config_.stride);
    }

    static LayerPtr<T> load_config(ByteReader& in) {
        layer_detail::check_config_version(in, 1, "AvgPool2D");
        Config c;
        c.pool_size = in.read<std::int64_t>();
        c.stride = in.read<std::int64_t>();
        if (c.pool_size <= 0 || c.stride < 0)
            detail::fail<format_error>(in.source(), ": AvgPool2D configuration has pool_size ", c.pool_size,
                                       ", stride ", c.stride);
        return std::make_unique<AvgPool2D<T>>(c);
    }

private:
    Config config_;
    bool built_ = false;
    detail::kernels::ConvGeometry geometry_;
};

}  // namespace feral::nn
