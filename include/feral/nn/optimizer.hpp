// feral/nn/optimizer.hpp — the interface of gradient-descent optimisers (Adam, SGD).
//
// An optimiser updates a list of parameters (value, gradient pairs, see layer.hpp)
// in place from their current gradients. It keeps its own state per parameter
// (Adam's moments, SGD's velocity), keyed by the parameter's position in the list,
// created on the first step and checked on every later step: the list must keep
// the same length and shapes (a model cannot change under its optimiser). This base
// class holds that state, a fixed number of tensors per parameter, so that saving and
// resetting it is written once; a subclass only does the arithmetic of step().
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

    /// The name and every setting given at construction (not the learning rate callbacks
    /// set later): two optimisers with the same description take the same steps.
    [[nodiscard]] virtual std::string settings() const = 0;

    /// One update of every parameter from its gradient.
    virtual void step(const std::vector<Parameter<T>>& parameters) = 0;

    /// Forgets the per-parameter state (moments, velocities) and the step count.
    void reset() {
        state_.clear();
        steps_ = 0;
    }

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

    /// What save_state writes, read back and checked by read_state, set by apply_state.
    struct State {
        double learning_rate = 0;
        long long steps = 0;
        std::vector<Matrix<T>> tensors;
    };

    /// Writes what a resumed training needs: the optimiser's name, learning rate, step
    /// count and per-parameter state (none before the first step).
    void save_state(ByteWriter& out) const {
        out.write_string(name());
        out.write<double>(learning_rate_);
        out.write<std::int64_t>(steps_);
        out.write_matrices(state_);
    }

    /// Reads save_state's output for `parameters`, the model's list it was saved with, and
    /// checks it without changing this optimiser. Throws format_error naming in.source()
    /// for another optimiser's state, or state that does not fit those parameters.
    [[nodiscard]] State read_state(ByteReader& in, const std::vector<Parameter<T>>& parameters) const {
        const std::string saved = in.read_string();
        if (saved != name())
            detail::fail<format_error>(in.source(), ": holds ", saved, " state, this optimiser is ", name());
        State s;
        s.learning_rate = in.read<double>();
        s.steps = in.read<std::int64_t>();
        if (!(s.learning_rate > 0.0) || !std::isfinite(s.learning_rate) || s.steps < 0)
            detail::fail<format_error>(in.source(), ": corrupt ", name(), " state (learning rate ", s.learning_rate,
                                       ", ", s.steps, " steps)");
        s.tensors = in.read_matrices<Matrix<T>>();
        const std::size_t n = s.tensors.size();
        // The state is created by the first step: steps and tensors come together.
        if (slots_ != 0 && !parameters.empty() && (n == 0) != (s.steps == 0))
            detail::fail<format_error>(in.source(), ": corrupt ", name(), " state (", s.steps, " steps, ", n,
                                       " tensors)");
        if (n != 0 && n != parameters.size() * slots_)
            detail::fail<format_error>(in.source(), ": ", name(), " state of ", n, " tensors, the model's ",
                                       parameters.size(), " parameters need ", parameters.size() * slots_);
        for (std::size_t k = 0; k < n; ++k) {
            const Matrix<T>& m = s.tensors[k];
            const Parameter<T>& p = parameters[k / slots_];
            if (m.rows() != p.value->rows() || m.cols() != p.value->cols())
                detail::fail<format_error>(in.source(), ": ", name(), " state ", k, " is ", m.rows(), " x ", m.cols(),
                                           ", parameter '", p.name, "' is ", p.value->rows(), " x ", p.value->cols());
        }
        return s;
    }

    /// Sets what read_state returned.
    void apply_state(State s) {
        learning_rate_ = s.learning_rate;
        steps_ = s.steps;
        state_ = std::move(s.tensors);
    }

    /// read_state then apply_state: a state that does not fit changes nothing.
    void load_state(ByteReader& in, const std::vector<Parameter<T>>& parameters) {
        apply_state(read_state(in, parameters));
    }

protected:
    static void check_learning_rate(double lr, const std::string& owner, const char* function = "") {
        if (!(lr > 0.0) || !std::isfinite(lr))
            detail::fail(owner, function, ": learning rate must be a positive finite number, got ", lr);
    }

    /// `slots_per_parameter`: how many state tensors the optimiser keeps per parameter.
    explicit Optimizer(std::size_t slots_per_parameter) : slots_(slots_per_parameter) {}

    /// Creates the state's zero matrices on the first step; afterwards checks that the
    /// parameter list still has the same shapes.
    void prepare_state(const std::vector<Parameter<T>>& parameters) {
        if (slots_ == 0) return;  // a stateless optimiser
        const std::size_t n = parameters.size() * slots_;
        if (state_.empty() && n != 0) {
            state_.reserve(n);
            for (const auto& p : parameters)
                for (std::size_t s = 0; s < slots_; ++s)
                    state_.push_back(Matrix<T>::Zero(p.value->rows(), p.value->cols()));
            return;
        }
        if (state_.size() != n)
            detail::fail(name(), "::step: the optimiser was set up for ", state_.size() / slots_, " parameters, got ",
                         parameters.size(), " (call reset() after changing the model)");
        for (std::size_t i = 0; i < parameters.size(); ++i) {
            const auto& m = state_[i * slots_];
            const auto& p = parameters[i];
            if (m.rows() != p.value->rows() || m.cols() != p.value->cols() || p.gradient->rows() != p.value->rows() ||
                p.gradient->cols() != p.value->cols())
                detail::fail(name(), "::step: parameter ", i, " ('", p.name, "') is ", p.value->rows(), " x ",
                             p.value->cols(), " with a ", p.gradient->rows(), " x ", p.gradient->cols(),
                             " gradient, the optimiser state is ", m.rows(), " x ", m.cols());
        }
    }

    /// Slot `slot` of parameter `i`'s state (Adam: 0 the first moment, 1 the second).
    Matrix<T>& state(std::size_t i, std::size_t slot) { return state_[i * slots_ + slot]; }
    [[nodiscard]] const Matrix<T>& state(std::size_t i, std::size_t slot) const { return state_.at(i * slots_ + slot); }

    double learning_rate_ = 1e-3;
    long long steps_ = 0;

private:
    std::size_t slots_;
    std::vector<Matrix<T>> state_;  // slots_ tensors per parameter, in parameter order; empty before the first step
};

template <class T = float>
using OptimizerPtr = std::unique_ptr<Optimizer<T>>;

}  // namespace feral::nn
