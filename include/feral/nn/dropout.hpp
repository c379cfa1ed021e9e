// feral/nn/dropout.hpp — inverted dropout, Keras' Dropout.
//
//   training:   y = x * m / (1 - rate),  m ~ Bernoulli(1 - rate) per value
//   inference:  y = x
//   backward:   dx = dy * m / (1 - rate)   (dx = dy after an inference forward)
//
// Randomness: the mask of forward call t, sample row i is drawn from
// Random(seed).fork(t).fork(i), so it depends only on the seed, the call count and the
// row — not on the thread count. set_seed(s) reseeds and restarts the call count, which
// makes a training run reproducible. rate must lie in [0, 1).
//
// Example:
//   feral::nn::Dropout<float> drop({.rate = 0.25});  drop.set_seed(42);
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/core/threads.hpp"
#include "feral/nn/layer.hpp"
#include "feral/nn/relu.hpp"

#include <cmath>
#include <sstream>
#include <string>

namespace feral::nn {

template <class T = float>
class Dropout : public Layer<T> {
public:
    struct Config {
        double rate = 0.5;  ///< fraction of values dropped, in [0, 1)
    };

    Dropout() = default;
    explicit Dropout(Config config) : config_(config) {}

    [[nodiscard]] std::string type() const override { return "Dropout"; }
    [[nodiscard]] std::string describe() const override {
        std::ostringstream out;  // shortest form: "rate 0.2"
        out << "rate " << config_.rate;
        return out.str();
    }
    [[nodiscard]] const Config& config() const { return config_; }

    Shape build(const Shape& input, Random& rng) override {
        layer_detail::check_shape(input, "Dropout::build");
        if (!(config_.rate >= 0.0 && config_.rate < 1.0))
            detail::fail("Dropout::build: rate must lie in [0, 1), got ", config_.rate);
        if (!seeded_) seed_ = rng.next();  // a seed from the model's generator unless set_seed was called
        this->input_shape_ = this->output_shape_ = input;
        built_ = true;
        return input;
    }

    void set_seed(std::uint64_t seed) override {
        seed_ = seed;
        seeded_ = true;
        calls_ = 0;
    }

    [[nodiscard]] std::uint64_t random_position() const override { return calls_; }
    void set_random_position(std::uint64_t calls) override { calls_ = calls; }

    void forward(const Matrix<T>& input, Matrix<T>& output, bool training) override {
        layer_detail::check_input(input, this->input_shape_, built_, "Dropout::forward");
        masked_ = training && config_.rate > 0.0;
        if (!masked_) {
            output = input;
            return;
        }
        const Index n = input.rows(), d = input.cols();
        mask_.resize(n, d);
        output.resize(n, d);
        const T keep_scale = static_cast<T>(1.0 / (1.0 - config_.rate));
        const Random call_rng = Random(seed_).fork(calls_++);
        parallel_for(0, n, layer_detail::threads_for(n, 8 * d, resolve_threads(this->threads_)),
                     [&](std::int64_t b, std::int64_t e) {
                         for (Index i = b; i < e; ++i) {
                             Random row_rng = call_rng.fork(static_cast<std::uint64_t>(i));
                             T* m = mask_.row(i).data();
                             for (Index j = 0; j < d; ++j) m[j] = row_rng.uniform() < config_.rate ? T(0) : keep_scale;
                         }
                     });
        output.array() = input.array() * mask_.array();
    }

    void backward(const Matrix<T>& input, const Matrix<T>&, const Matrix<T>& grad_output,
                  Matrix<T>* grad_input) override {
        layer_detail::check_grad(input, grad_output, this->output_shape_, "Dropout::backward");
        if (!grad_input) return;
        if (!masked_) {
            *grad_input = grad_output;
            return;
        }
        if (mask_.rows() != grad_output.rows())
            detail::fail("Dropout::backward: the last forward saw ", mask_.rows(), " samples, grad_output has ",
                         grad_output.rows());
        grad_input->resize(grad_output.rows(), grad_output.cols());
        grad_input->array() = grad_output.array() * mask_.array();
    }

    void save_config(ByteWriter& out) const override {
        out.write<std::uint32_t>(1);
        out.write<double>(config_.rate);
    }

    static LayerPtr<T> load_config(ByteReader& in) {
        layer_detail::check_config_version(in, 1, "Dropout");
        Config c;
        c.rate = in.read<double>();
        if (!(c.rate >= 0.0 && c.rate < 1.0))
            detail::fail<format_error>(in.source(), ": Dropout configuration has rate ", c.rate);
        return std::make_unique<Dropout<T>>(c);
    }

    /// The mask of the last training forward (0 or 1/(1-rate) per value).
    [[nodiscard]] const Matrix<T>& mask() const { return mask_; }

private:
    Config config_;
    bool built_ = false, seeded_ = false, masked_ = false;
    std::uint64_t seed_ = 0, calls_ = 0;
    Matrix<T> mask_;
};

}  // namespace feral::nn
