// feral/nn/sgd.hpp — stochastic gradient descent with momentum (heavy-ball or Nesterov).
//
// For every parameter p with gradient g (torch.optim.SGD's formulation, dampening 0):
//     g  <- g + weight_decay * p                  (L2 penalty folded into the gradient)
//     b  <- momentum * b + g                      (b starts at 0, so b = g on step 1)
//     d  <- nesterov ? g + momentum * b : b       (momentum = 0: d = g, plain SGD)
//     p  <- p - lr * d
// With a constant learning rate this is the same trajectory as Keras's
// v <- momentum v - lr g; p <- p + v (and its Nesterov variant).
//
// Defaults: lr 0.01 (Keras and torch), momentum 0, nesterov false, weight_decay 0.
#pragma once

#include "feral/nn/optimizer.hpp"

#include <iomanip>
#include <sstream>

namespace feral::nn {

template <class T = float>
class SGD final : public Optimizer<T> {
public:
    struct Config {
        double learning_rate = 0.01;
        double momentum = 0.0;
        bool nesterov = false;
        double weight_decay = 0.0;  ///< L2 penalty coefficient added to the gradient
    };

    SGD() : SGD(Config{}) {}

    /// Throws invalid_argument for lr <= 0, momentum outside [0, 1), weight_decay < 0,
    /// or nesterov without momentum.
    explicit SGD(Config config) : Optimizer<T>(1), config_(config) {
        this->check_learning_rate(config.learning_rate, "SGD");
        if (!(config.momentum >= 0.0 && config.momentum < 1.0))
            detail::fail("SGD: momentum must be in [0, 1), got ", config.momentum);
        if (config.nesterov && config.momentum == 0.0) detail::fail("SGD: nesterov needs momentum > 0, got momentum 0");
        if (!(config.weight_decay >= 0.0) || !std::isfinite(config.weight_decay))
            detail::fail("SGD: weight_decay must be >= 0, got ", config.weight_decay);
        this->learning_rate_ = config.learning_rate;
    }

    [[nodiscard]] std::string name() const override { return "SGD"; }
    [[nodiscard]] std::string settings() const override {
        std::ostringstream text;
        text << std::setprecision(17) << "SGD(learning rate " << config_.learning_rate << ", momentum "
             << config_.momentum << ", nesterov " << (config_.nesterov ? "on" : "off") << ", weight decay "
             << config_.weight_decay << ")";
        return text.str();
    }
    [[nodiscard]] const Config& config() const { return config_; }

    void step(const std::vector<Parameter<T>>& parameters) override {
        this->prepare_state(parameters);
        ++this->steps_;
        const T lr = static_cast<T>(this->learning_rate_);
        const T mu = static_cast<T>(config_.momentum);
        const T wd = static_cast<T>(config_.weight_decay);
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            auto p = parameters[i].value->array();
            const auto g = parameters[i].gradient->array();
            auto b = this->state(i, 0).array();  // velocity
            if (config_.momentum == 0.0) {
                if (config_.weight_decay > 0.0) p -= lr * (g + wd * p);
                else p -= lr * g;
                continue;
            }
            if (config_.weight_decay > 0.0) {
                b = mu * b + g + wd * p;
                if (config_.nesterov) p -= lr * (g + wd * p + mu * b);
                else p -= lr * b;
            } else {
                b = mu * b + g;
                if (config_.nesterov) p -= lr * (g + mu * b);
                else p -= lr * b;
            }
        }
    }

    [[nodiscard]] std::unique_ptr<Optimizer<T>> clone() const override {
        auto copy = std::make_unique<SGD>(config_);
        copy->learning_rate_ = this->learning_rate_;
        return copy;
    }

private:
    Config config_;
};

}  // namespace feral::nn
