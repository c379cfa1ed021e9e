// feral/nn/batch_norm.hpp — batch normalisation (Ioffe & Szegedy 2015), Keras'
// BatchNormalization / PyTorch's BatchNorm1d/2d.
//
// Statistics are per channel: over N, H, W for a C x H x W input (after Conv2D), and per
// feature for a {features, 1, 1} input (after Dense or Flatten) — one rule, since a
// feature is a channel of size 1 x 1. With M = N*H*W values per channel:
//
//   training:   mu = mean(x),  var = mean((x - mu)^2)         (biased, used to normalise)
//               y = gamma * (x - mu) / sqrt(var + eps) + beta
//               moving_mean     = momentum * moving_mean     + (1 - momentum) * mu
//               moving_variance = momentum * moving_variance + (1 - momentum) * var * M/(M-1)
//                                                             (unbiased, as PyTorch)
//   inference:  y = gamma * (x - moving_mean) / sqrt(moving_variance + eps) + beta
//   backward (training, xhat = (x - mu)/sqrt(var + eps)):
//               dgamma = sum dy*xhat,  dbeta = sum dy,
//               dx = gamma/sqrt(var+eps)/M * (M*dy - sum dy - xhat * sum dy*xhat)
//
// Conventions: `momentum` is Keras' (the weight of the old running value, default 0.99);
// PyTorch's momentum m is the weight of the new batch, so torch's m corresponds to
// momentum = 1 - m (Config::torch() builds PyTorch's defaults). epsilon defaults to
// Keras' 1e-3 (PyTorch uses 1e-5). Parameters "gamma" (ones) and "beta" (zeros), 1 x C;
// state() holds moving_mean (zeros) and moving_variance (ones), 1 x C.
//
// Sums run in double, in eight lanes per channel (layer_detail::SumLanes below) added in
// a fixed order; channels are spread over threads, so results do not depend on the thread
// count.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/threads.hpp"
#include "feral/nn/layer.hpp"
#include "feral/nn/relu.hpp"

#include <array>
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

namespace feral::nn {

namespace layer_detail {

/// Running sums in double kept in kSumLanes independent lanes, value p of a channel's
/// plane going to lane p % kSumLanes, the lanes added together only at the end. One
/// running sum is a chain of dependent additions that the compiler may not reorder
/// (no -ffast-math): one addition every four cycles. Eight lanes of doubles fill one
/// AVX-512 register, and the compiler turns each step of eight into vector arithmetic.
/// The lane of a value depends only on its position, never on the threads.
inline constexpr Index kSumLanes = 8;
using SumLanes = std::array<double, kSumLanes>;

/// Calls add(lane, p) for every p in [0, n), in steps of kSumLanes.
template <class Add>
void for_each_in_lanes(Index n, Add&& add) {
    Index p = 0;
    for (; p + kSumLanes <= n; p += kSumLanes)
        for (Index lane = 0; lane < kSumLanes; ++lane) add(lane, p + lane);
    for (; p < n; ++p) add(p % kSumLanes, p);
}

inline double lanes_total(const SumLanes& lanes) {
    double total = 0;
    for (double v : lanes) total += v;
    return total;
}

}  // namespace layer_detail

template <class T = float>
class BatchNorm : public Layer<T> {
public:
    struct Config {
        double momentum = 0.99;  ///< Keras convention: new = momentum*old + (1-momentum)*batch
        double epsilon = 1e-3;   ///< Keras' default (PyTorch: 1e-5)

        /// PyTorch's convention and defaults: torch momentum m -> momentum = 1 - m.
        static Config torch(double torch_momentum = 0.1, double epsilon = 1e-5) {
            return Config{1.0 - torch_momentum, epsilon};
        }
    };

    BatchNorm() = default;
    explicit BatchNorm(Config config) : config_(config) {}

    [[nodiscard]] std::string type() const override { return "BatchNorm"; }
    [[nodiscard]] std::string describe() const override {
        std::ostringstream out;  // shortest form: "momentum 0.99, epsilon 0.001"
        out << "momentum " << config_.momentum << ", epsilon " << config_.epsilon;
        return out.str();
    }
    [[nodiscard]] const Config& config() const { return config_; }

    Shape build(const Shape& input, Random&) override {
        layer_detail::check_shape(input, "BatchNorm::build");
        if (!(config_.momentum >= 0.0 && config_.momentum <= 1.0))
            detail::fail("BatchNorm::build: momentum must lie in [0, 1] (Keras convention), got ", config_.momentum);
        if (!(config_.epsilon > 0.0)) detail::fail("BatchNorm::build: epsilon must be positive, got ", config_.epsilon);
        const Index c = input.channels;
        gamma_.setOnes(1, c);
        beta_.setZero(1, c);
        gamma_grad_.setZero(1, c);
        beta_grad_.setZero(1, c);
        moving_mean_.setZero(1, c);
        moving_variance_.setOnes(1, c);
        mean_.assign(static_cast<std::size_t>(c), 0.0);
        inv_std_.assign(static_cast<std::size_t>(c), 0.0);
        this->input_shape_ = this->output_shape_ = input;
        built_ = true;
        return input;
    }

    void forward(const Matrix<T>& input, Matrix<T>& output, bool training) override {
        layer_detail::check_input(input, this->input_shape_, built_, "BatchNorm::forward");
        const Index n = input.rows(), channels = this->input_shape_.channels;
        const Index spatial = this->input_shape_.height * this->input_shape_.width;
        const Index count = n * spatial;
        if (training && count < 2)
            detail::fail("BatchNorm::forward: training needs more than one value per channel, got a batch of ", n,
                         " sample(s) of shape ", to_string(this->input_shape_));
        output.resize(n, input.cols());
        trained_forward_ = training;
        forward_rows_ = n;
        parallel_for(0, channels, layer_detail::threads_for(channels, 3 * count, resolve_threads(this->threads_)),
                     [&](std::int64_t c0, std::int64_t c1) {
            for (Index c = c0; c < c1; ++c) {
                double mean, var;
                if (training) {
                    layer_detail::SumLanes sum{};
                    for (Index i = 0; i < n; ++i) {
                        const T* x = input.row(i).data() + c * spatial;
                        layer_detail::for_each_in_lanes(spatial, [&](Index lane, Index p) { sum[lane] += x[p]; });
                    }
                    mean = layer_detail::lanes_total(sum) / static_cast<double>(count);
                    layer_detail::SumLanes square_lanes{};
                    for (Index i = 0; i < n; ++i) {
                        const T* x = input.row(i).data() + c * spatial;
                        layer_detail::for_each_in_lanes(spatial, [&](Index lane, Index p) {
                            const double d = x[p] - mean;
                            square_lanes[lane] += d * d;
                        });
                    }
                    const double squares = layer_detail::lanes_total(square_lanes);
                    var = squares / static_cast<double>(count);
                    const double unbiased = squares / static_cast<double>(count - 1);
                    moving_mean_(0, c) = static_cast<T>(config_.momentum * moving_mean_(0, c) + (1.0 - config_.momentum) * mean);
                    moving_variance_(0, c) = static_cast<T>(config_.momentum * moving_variance_(0, c) +
                                                            (1.0 - config_.momentum) * unbiased);
                } else {
                    mean = moving_mean_(0, c);
                    var = moving_variance_(0, c);
                }
                const double inv_std = 1.0 / std::sqrt(var + config_.epsilon);
                mean_[static_cast<std::size_t>(c)] = mean;
                inv_std_[static_cast<std::size_t>(c)] = inv_std;
                const T scale = static_cast<T>(gamma_(0, c) * inv_std);
                const T shift = static_cast<T>(beta_(0, c) - mean * gamma_(0, c) * inv_std);
                for (Index i = 0; i < n; ++i) {
                    const T* x = input.row(i).data() + c * spatial;
                    T* y = output.row(i).data() + c * spatial;
                    for (Index p = 0; p < spatial; ++p) y[p] = x[p] * scale + shift;
                }
            }
        });
    }

    void backward(const Matrix<T>& input, const Matrix<T>&, const Matrix<T>& grad_output,
                  Matrix<T>* grad_input) override {
        layer_detail::check_input(input, this->input_shape_, built_, "BatchNorm::backward");
        layer_detail::check_grad(input, grad_output, this->output_shape_, "BatchNorm::backward");
        if (forward_rows_ != input.rows())
            detail::fail("BatchNorm::backward: the last forward saw ", forward_rows_, " samples, this batch has ",
                         input.rows(), " (call forward on the same batch first)");
        const Index n = input.rows(), channels = this->input_shape_.channels;
        const Index spatial = this->input_shape_.height * this->input_shape_.width;
        const double count = static_cast<double>(n * spatial);
        if (grad_input) grad_input->resize(n, input.cols());
        parallel_for(0, channels,
                     layer_detail::threads_for(channels, 3 * n * spatial, resolve_threads(this->threads_)),
                     [&](std::int64_t c0, std::int64_t c1) {
            for (Index c = c0; c < c1; ++c) {
                const double mean = mean_[static_cast<std::size_t>(c)], inv_std = inv_std_[static_cast<std::size_t>(c)];
                layer_detail::SumLanes dy_lanes{}, dy_xhat_lanes{};
                for (Index i = 0; i < n; ++i) {
                    const T* x = input.row(i).data() + c * spatial;
                    const T* dy = grad_output.row(i).data() + c * spatial;
                    layer_detail::for_each_in_lanes(spatial, [&](Index lane, Index p) {
                        dy_lanes[lane] += dy[p];
                        dy_xhat_lanes[lane] += dy[p] * ((x[p] - mean) * inv_std);
                    });
                }
                const double sum_dy = layer_detail::lanes_total(dy_lanes);
                const double sum_dy_xhat = layer_detail::lanes_total(dy_xhat_lanes);
                gamma_grad_(0, c) = static_cast<T>(sum_dy_xhat);
                beta_grad_(0, c) = static_cast<T>(sum_dy);
                if (!grad_input) continue;
                const double g = gamma_(0, c) * inv_std;
                for (Index i = 0; i < n; ++i) {
                    const T* x = input.row(i).data() + c * spatial;
                    const T* dy = grad_output.row(i).data() + c * spatial;
                    T* dx = grad_input->row(i).data() + c * spatial;
                    if (trained_forward_) {
                        // dx = g * (dy - mean(dy) - xhat * mean(dy * xhat))
                        const double a = sum_dy / count, b = sum_dy_xhat / count;
                        for (Index p = 0; p < spatial; ++p) {
                            const double xhat = (x[p] - mean) * inv_std;
                            dx[p] = static_cast<T>(g * (dy[p] - a - xhat * b));
                        }
                    } else {
                        for (Index p = 0; p < spatial; ++p) dx[p] = static_cast<T>(g * dy[p]);
                    }
                }
            }
        });
    }

    std::vector<Parameter<T>> parameters() override {
        return {{"gamma", &gamma_, &gamma_grad_}, {"beta", &beta_, &beta_grad_}};
    }
    std::vector<Matrix<T>*> state() override { return {&moving_mean_, &moving_variance_}; }

    void save_config(ByteWriter& out) const override {
        out.write<std::uint32_t>(1);
        out.write<double>(config_.momentum);
        out.write<double>(config_.epsilon);
    }

    static LayerPtr<T> load_config(ByteReader& in) {
        layer_detail::check_config_version(in, 1, "BatchNorm");
        Config c;
        c.momentum = in.read<double>();
        c.epsilon = in.read<double>();
        if (!(c.momentum >= 0.0 && c.momentum <= 1.0) || !(c.epsilon > 0.0))
            detail::fail<format_error>(in.source(), ": BatchNorm configuration has momentum ", c.momentum,
                                       ", epsilon ", c.epsilon);
        return std::make_unique<BatchNorm<T>>(c);
    }

    Matrix<T>& gamma() { return gamma_; }
    Matrix<T>& beta() { return beta_; }
    Matrix<T>& moving_mean() { return moving_mean_; }
    Matrix<T>& moving_variance() { return moving_variance_; }

private:
    Config config_;
    bool built_ = false, trained_forward_ = false;
    Index forward_rows_ = -1;
    Matrix<T> gamma_, beta_, gamma_grad_, beta_grad_, moving_mean_, moving_variance_;
    std::vector<double> mean_, inv_std_;  // statistics used by the last forward, per channel
};

}  // namespace feral::nn
