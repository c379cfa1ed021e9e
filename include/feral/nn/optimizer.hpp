// feral/nn/optimizer.hpp — the interface of gradient-descent optimisers (Adam, SGD).
//
// An optimiser updates a list of parameters (value, gradient pairs, see layer.hpp)
// in place from their current gradients. It keeps its own state per parameter
// (Adam's moments, SGD's velocity), keyed by the parameter's position in the list,
// created on the first step and checked on every later step: the list must keep
// the same length and shapes (a model cannot change under its optimiser).
//
// save_state/load_state carry all of that (and the learning rate) across a resumed
// training (training_backup.hpp).
//
// The learning-rate schedule does not live here (dlib's rule: the trainer owns the
// schedule). Sequential::fit and callbacks such as ReduceLROnPlateau call
// set_learning_rate() between steps.
//
//   requires: learning rate > 0 and finite (set_learning_rate throws invalid_argument).
//   ensures:  step() changes every parameter value, never its gradient.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/serialize.hpp"
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

    /// Writes what a resumed training needs: the optimiser's name, learning rate, step
    /// count and per-parameter state (none before the first step).
    void save_state(ByteWriter& out) const {
        out.write_string(name());
        out.write<double>(learning_rate_);
        out.write<std::int64_t>(steps_);
        const auto& state = state_tensors();
        out.write<std::uint64_t>(state.size());
        for (const auto& m : state) out.write_matrix(m);
    }

    /// Reads save_state's output back for `parameters`, the model's list it was saved
    /// with. Throws format_error naming in.source() for another optimiser's state, or
    /// state that does not fit those parameters.
    void load_state(ByteReader& in, const std::vector<Parameter<T>>& parameters) {
        const std::string saved = in.read_string();
        if (saved != name())
            detail::fail<format_error>(in.source(), ": holds ", saved, " state, this optimiser is ", name());
        const auto lr = in.read<double>();
        const auto steps = in.read<std::int64_t>();
        const auto n = in.read<std::uint64_t>();
        const std::size_t slots = static_cast<std::size_t>(state_slots());
        if (!(lr > 0.0) || !std::isfinite(lr) || steps < 0)
            detail::fail<format_error>(in.source(), ": corrupt ", name(), " state (learning rate ", lr, ", ", steps,
                                       " steps)");
        if (n != 0 && n != parameters.size() * slots)
            detail::fail<format_error>(in.source(), ": ", name(), " state of ", n, " tensors, the model's ",
                                       parameters.size(), " parameters need ", parameters.size() * slots);
        std::vector<Matrix<T>> state;
        state.reserve(static_cast<std::size_t>(n));
        for (std::size_t k = 0; k < n; ++k) {
            state.push_back(in.read_matrix<Matrix<T>>());
            const Parameter<T>& p = parameters[k / slots];
            if (state.back().rows() != p.value->rows() || state.back().cols() != p.value->cols())
                detail::fail<format_error>(in.source(), ": ", name(), " state ", k, " is ", state.back().rows(), " x ",
                                           state.back().cols(), ", parameter '", p.name, "' is ", p.value->rows(),
                                           " x ", p.value->cols());
        }
        learning_rate_ = lr;
        steps_ = steps;
        mutable_state_tensors() = std::move(state);
    }

protected:
    static void check_learning_rate(double lr, const std::string& owner, const char* function = "") {
        if (!(lr > 0.0) || !std::isfinite(lr))
            detail::fail(owner, function, ": learning rate must be a positive finite number, got ", lr);
    }

    /// The per-parameter state: state_slots() tensors per parameter, in parameter order
    /// (Adam: m0, v0, m1, v1, ...); empty before the first step.
    [[nodiscard]] virtual const std::vector<Matrix<T>>& state_tensors() const = 0;
    [[nodiscard]] virtual int state_slots() const = 0;
    std::vector<Matrix<T>>& mutable_state_tensors() { return const_cast<std::vector<Matrix<T>>&>(state_tensors()); }

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
