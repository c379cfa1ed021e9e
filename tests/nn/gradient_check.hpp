// Numerical gradient checks for nn layers, in double precision.
//
// The scalar checked is L = sum(Y .* R) for a fixed random R, so dL/dY = R. The layer's
// backward(X, Y, R) gives dL/dX and the parameter gradients; each is compared with central
// differences (L(v + h) - L(v - h)) / 2h, error measured relative to max(1, |g|).
#pragma once

#include "feral/core/random.hpp"
#include "feral/nn/layer.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <string>

namespace feral::test {

struct GradientCheckResult {
    double max_input_error = 0;
    double max_parameter_error = 0;
    std::string worst;  ///< where the worst error was seen
};

/// The distance between probed entries of a tensor of n values, for at most about
/// max_checks probes: a prime, so that the probes do not keep to a few columns or rows of
/// an image whose size the step divides (they reach its edges too).
inline Index probe_step(Index n, Index max_checks) {
    Index step = std::max<Index>(1, n / max_checks);
    auto is_prime = [](Index v) {
        for (Index d = 2; d * d <= v; ++d)
            if (v % d == 0) return false;
        return true;
    };
    if (step > 1)
        while (!is_prime(step)) ++step;
    return step;
}

/// Checks layer (already built) on input X. `before_forward` runs before every forward
/// (e.g. to reseed dropout so every evaluation sees the same mask). At most
/// `max_checks` entries of each tensor are probed, spread evenly.
inline GradientCheckResult gradient_check(nn::Layer<double>& layer, const Matrix<double>& X, bool training = true,
                                          const std::function<void()>& before_forward = {}, Index max_checks = 200,
                                          double h = 1e-6) {
    Random rng(123);
    Matrix<double> Y;
    if (before_forward) before_forward();
    layer.forward(X, Y, training);
    Matrix<double> R(Y.rows(), Y.cols());
    for (Index i = 0; i < R.size(); ++i) R.data()[i] = rng.uniform(-1.0, 1.0);
    Matrix<double> dX;
    layer.backward(X, Y, R, &dX);

    auto objective = [&](const Matrix<double>& input) {
        Matrix<double> out;
        if (before_forward) before_forward();
        layer.forward(input, out, training);
        double total = 0;  // a plain loop: the same order every call
        for (Index i = 0; i < out.size(); ++i) total += out.data()[i] * R.data()[i];
        return total;
    };

    GradientCheckResult result;
    auto probe = [&](Matrix<double>& tensor, const Matrix<double>& analytic, const std::string& name,
                     double& max_error) {
        const Index n = tensor.size();
        const Index step = probe_step(n, max_checks);
        for (Index idx = 0; idx < n; idx += step) {
            const double saved = tensor.data()[idx];
            tensor.data()[idx] = saved + h;
            const double up = objective(X);
            tensor.data()[idx] = saved - h;
            const double down = objective(X);
            tensor.data()[idx] = saved;
            const double numeric = (up - down) / (2 * h);
            const double a = analytic.data()[idx];
            const double err = std::abs(numeric - a) / std::max(1.0, std::abs(a));
            if (err > max_error) {
                max_error = err;
                result.worst = name + "[" + std::to_string(idx) + "] analytic " + std::to_string(a) + " numeric " +
                               std::to_string(numeric);
            }
        }
    };
    // Input gradient: perturb a copy of X.
    {
        Matrix<double> Xp = X;
        const Index n = Xp.size();
        const Index step = probe_step(n, max_checks);
        for (Index idx = 0; idx < n; idx += step) {
            const double saved = Xp.data()[idx];
            Xp.data()[idx] = saved + h;
            const double up = objective(Xp);
            Xp.data()[idx] = saved - h;
            const double down = objective(Xp);
            Xp.data()[idx] = saved;
            const double numeric = (up - down) / (2 * h);
            const double a = dX.data()[idx];
            const double err = std::abs(numeric - a) / std::max(1.0, std::abs(a));
            if (err > result.max_input_error) {
                result.max_input_error = err;
                result.worst = "input[" + std::to_string(idx) + "] analytic " + std::to_string(a) + " numeric " +
                               std::to_string(numeric);
            }
        }
    }
    for (auto& p : layer.parameters()) {
        const Matrix<double> analytic = *p.gradient;
        probe(*p.value, analytic, p.name, result.max_parameter_error);
    }
    return result;
}

/// A matrix of uniform values in [-1, 1) (optionally kept at least `gap` away from 0,
/// so ReLU kinks and pooling ties are not probed by the finite differences).
inline Matrix<double> random_input(Index rows, Index cols, std::uint64_t seed, double gap = 0.0) {
    Random rng(seed);
    Matrix<double> X(rows, cols);
    for (Index i = 0; i < X.size(); ++i) {
        double v = rng.uniform(-1.0, 1.0);
        if (gap > 0 && std::abs(v) < gap) v += v < 0 ? -gap : gap;
        X.data()[i] = v;
    }
    return X;
}

}  // namespace feral::test
