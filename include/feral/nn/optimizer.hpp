// feral/nn/optimizer.hpp — the interface of gradient-descent optimisers (Adam, SGD).
//
// An optimiser updates a list of parameters (value, gradient pairs, see layer.hpp)
// in place from their current gradients. It keeps its own state per parameter
// (Adam's moments, SGD's velocity), keyed by the parameter's position in the list,
// created on the first step and checked on every later step: the list must keep
// the same length and shapes (a model cannot change under its optimiser).
//
// The learning-rate schedule does not live here (dlib's rule: the trainer owns the
// schedule). Sequential::fit and callbacks such as ReduceLROnPlateau call
// set_learning_rate() between steps.
//
//   requires: learning rate > 0 and finite (set_learning_rate throws invalid_argument).
//   ensures:  step() changes every parameter value, never its gradient.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"
#include "feral/nn/layer.hpp"

#include <cmath>
#include <memory>
#include <string>
#include <vector>

namespace feral::nn {

template <class T = float>
class Optimizer {
public:
    virtual ~Optimizer() = default;

    /// "Adam", "SGD", ... for summaries and messages.
    [[nodiscard]] virtual std::string name() const = 0;

    /// One update of every parameter from its gradient.
    virtual void step(const std::vector<Parameter<T>>& parameters) = 0;

    /// Forgets the per-parameter state (moments, velocities, step count).
    virtual void reset() = 0;

    /// A fresh optimiser with the same configuration and no state.
    [[nodiscard]] virtual std::unique_ptr<Optimizer> clone() const = 0;

    [[nodiscard]] double learning_rate() const { return learning_rate_; }

    /// Sets the step size used from the next step on. Throws invalid_argument unless lr > 0.
    void set_learning_rate(double lr) {
        check_learning_rate(lr, name(), "::set_learning_rate");
        learning_rate_ = lr;
    }

    /// Number of steps taken since construction or reset().
    [[nodiscard]] long long steps() const { return steps_; }

protected:
    static void check_learning_rate(double lr, const std::string& owner, const char* function = "") {
        if (!(lr > 0.0) || !std::isfinite(lr))
            detail::fail(owner, function, ": learning rate must be a positive finite number, got ", lr);
    }

    /// Creates `slots` zero matrices per parameter on the first step; afterwards checks
    /// that the parameter list still has the same shapes.
    void prepare_state(const std::vector<Parameter<T>>& parameters, std::vector<Matrix<T>>& state, int slots) {
        const std::size_t n = parameters.size() * static_cast<std::size_t>(slots);
        if (state.empty() && n != 0) {
            state.reserve(n);
            for (const auto& p : parameters)
                for (int s = 0; s < slots; ++s) state.push_back(Matrix<T>::Zero(p.value->rows(), p.value->cols()));
            return;
        }
        if (state.size() != n)
            detail::fail(name(), "::step: the optimiser was set up for ", state.size() / static_cast<std::size_t>(slots),
                         " parameters, got ", parameters.size(), " (call reset() after changing the model)");
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            const auto& m = state[i * static_cast<std::size_t>(slots)];
            const auto& p = parameters[i];
            if (m.rows() != p.value->rows() || m.cols() != p.value->cols() || p.gradient->rows() != p.value->rows() ||
                p.gradient->cols() != p.value->cols())
                detail::fail(name(), "::step: parameter ", i, " ('", p.name, "') is ", p.value->rows(), " x ",
                             p.value->cols(), " with a ", p.gradient->rows(), " x ", p.gradient->cols(),
                             " gradient, the optimiser state is ", m.rows(), " x ", m.cols());
        }
    }

    double learning_rate_ = 1e-3;
    long long steps_ = 0;
};

template <class T = float>
using OptimizerPtr = std::unique_ptr<Optimizer<T>>;

}  // namespace feral::nn
