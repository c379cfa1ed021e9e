// feral/nn/adam.hpp — Adam (Kingma & Ba, 2015), optionally with decoupled weight decay (AdamW).
//
// For every parameter p with gradient g, at step t = 1, 2, ...:
//     p  <- p - lr * wd * p                       (only if weight_decay > 0: AdamW,
//                                                  Loshchilov & Hutter 2019, as torch.optim.AdamW)
//     m  <- beta1 * m + (1 - beta1) * g
//     v  <- beta2 * v + (1 - beta2) * g^2
//     p  <- p - lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)
// This is torch.optim.Adam's update exactly (epsilon is added OUTSIDE the square root,
// after bias correction). Keras (TF 2) adds epsilon to sqrt(v) before the bias
// correction of v, i.e. its epsilon equals ours times sqrt(1 - beta2^t); the two agree
// once t is large. Putting epsilon inside the square root (tiny-dnn) is a different
// algorithm and is not done here.
//
// Defaults: lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7 (Keras's default; PyTorch
// uses 1e-8 — set it to compare with torch), weight_decay 0.
//
// Example:
//   model.compile(std::make_unique<feral::nn::Adam<>>(feral::nn::Adam<>::Config{.learning_rate = 5e-4}));
//
// Performance: the update is four fused Eigen array expressions per parameter
// (vectorised; memory-bound).
#pragma once

#include "feral/nn/optimizer.hpp"

#include <cmath>
#include <iomanip>
#include <sstream>

namespace feral::nn {

template <class T = float>
class Adam final : public Optimizer<T> {
public:
    struct Config {
        double learning_rate = 1e-3;
        double beta1 = 0.9;
        double beta2 = 0.999;
        double epsilon = 1e-7;       ///< Keras default; torch.optim.Adam uses 1e-8
        double weight_decay = 0.0;   ///< decoupled (AdamW-style), not an L2 term in the gradient
    };

    Adam() : Adam(Config{}) {}

    /// Throws invalid_argument for lr <= 0, betas outside [0, 1), epsilon < 0 or weight_decay < 0.
    explicit Adam(Config config) : Optimizer<T>(2), config_(config) {
        this->check_learning_rate(config.learning_rate, "Adam");
        if (!(config.beta1 >= 0.0 && config.beta1 < 1.0)) detail::fail("Adam: beta1 must be in [0, 1), got ", config.beta1);
        if (!(config.beta2 >= 0.0 && config.beta2 < 1.0)) detail::fail("Adam: beta2 must be in [0, 1), got ", config.beta2);
        if (!(config.epsilon >= 0.0) || !std::isfinite(config.epsilon))
            detail::fail("Adam: epsilon must be >= 0, got ", config.epsilon);
        if (!(config.weight_decay >= 0.0) || !std::isfinite(config.weight_decay))
            detail::fail("Adam: weight_decay must be >= 0, got ", config.weight_decay);
        this->learning_rate_ = config.learning_rate;
    }

    [[nodiscard]] std::string name() const override { return "Adam"; }
    [[nodiscard]] std::string settings() const override {
        std::ostringstream text;
        text << std::setprecision(17) << "Adam(learning rate " << config_.learning_rate << ", beta1 " << config_.beta1
             << ", beta2 " << config_.beta2 << ", epsilon " << config_.epsilon << ", weight decay "
             << config_.weight_decay << ")";
        return text.str();
    }
    [[nodiscard]] const Config& config() const { return config_; }

    void step(const std::vector<Parameter<T>>& parameters) override {
        this->prepare_state(parameters);
        ++this->steps_;
        const double t = static_cast<double>(this->steps_);
        const double correction1 = 1.0 - std::pow(config_.beta1, t);
        const double correction2 = 1.0 - std::pow(config_.beta2, t);
        // p -= (lr / c1) * m / (sqrt(v) / sqrt(c2) + eps), torch's arrangement of the same formula.
        const T step_size = static_cast<T>(this->learning_rate_ / correction1);
        const T inverse_sqrt_c2 = static_cast<T>(1.0 / std::sqrt(correction2));
        const T b1 = static_cast<T>(config_.beta1), b2 = static_cast<T>(config_.beta2);
        const T eps = static_cast<T>(config_.epsilon);
        const T decay = static_cast<T>(1.0 - this->learning_rate_ * config_.weight_decay);
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            auto p = parameters[i].value->array();
            const auto g = parameters[i].gradient->array();
            auto m = this->state(i, 0).array();  // first moment
            auto v = this->state(i, 1).array();  // second moment
            if (config_.weight_decay > 0.0) p *= decay;
            m = b1 * m + (T(1) - b1) * g;
            v = b2 * v + (T(1) - b2) * g.square();
            p -= step_size * m / (v.sqrt() * inverse_sqrt_c2 + eps);
        }
    }

    [[nodiscard]] std::unique_ptr<Optimizer<T>> clone() const override {
        auto copy = std::make_unique<Adam>(config_);
        copy->learning_rate_ = this->learning_rate_;
        return copy;
    }

    /// First and second moment of parameter i (after at least one step).
    [[nodiscard]] const Matrix<T>& first_moment(std::size_t i) const { return this->state(i, 0); }
    [[nodiscard]] const Matrix<T>& second_moment(std::size_t i) const { return this->state(i, 1); }

private:
    Config config_;
};

}  // namespace feral::nn
