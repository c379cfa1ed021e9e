// feral/detail/optim/lbfgs.hpp — limited-memory BFGS for smooth unconstrained
// minimisation (Nocedal & Wright, "Numerical Optimization", 2nd ed., algorithms 7.4
// and 7.5, with the strong-Wolfe line search of algorithms 3.5 and 3.6).
//
//   minimise f(x),  x in R^n,  given a callable  double f(const VectorXd& x, VectorXd& grad)
//
// Each iteration takes the direction d = -H g, where H applies the inverse-Hessian
// estimate built from the last `memory` pairs (s = x_{k+1} - x_k, y = g_{k+1} - g_k)
// by the two-loop recursion, scaled by gamma = s.y / y.y; then a step length alpha
// satisfying the strong Wolfe conditions
//     f(x + alpha d) <= f(x) + c1 alpha g.d,    |g(x + alpha d).d| <= c2 |g.d|
// with c1 = 1e-3, c2 = 0.9 (the values scipy's L-BFGS-B uses). The first step is
// 1 / |g| (scipy's choice), later ones start at 1.
//
// Stopping rules, as scipy.optimize.minimize(method="L-BFGS-B") without bounds, which
// scikit-learn's LogisticRegression(solver="lbfgs") calls with gtol = tol:
//     max_i |g_i| <= gtol                                   (converged)
//     (f_k - f_{k+1}) / max(|f_k|, |f_{k+1}|, 1) <= ftol    (converged; ftol = 1e7 * eps)
//     max_iter iterations                                    (not converged)
// A line search that cannot make progress ends the run with converged = false.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <utility>
#include <vector>

namespace feral::detail {

struct LbfgsOptions {
    int max_iter = 100;
    double gtol = 1e-5;
    double ftol = 1e7 * std::numeric_limits<double>::epsilon();
    int memory = 10;
    int max_line_search = 40;
};

struct LbfgsResult {
    int n_iter = 0;        ///< iterations run
    bool converged = false;
    double value = 0.0;    ///< f at the returned x
};

namespace lbfgs_detail {
/// Minimiser of the cubic interpolating (a, fa, da) and (b, fb, db), kept inside the
/// middle 80% of the interval; bisection when the cubic has no usable minimum.
inline double interpolate(double a, double fa, double da, double b, double fb, double db) {
    const double lo = std::min(a, b), hi = std::max(a, b), width = hi - lo;
    const double d1 = da + db - 3.0 * (fa - fb) / (a - b);
    const double radicand = d1 * d1 - da * db;
    double t = 0.5 * (a + b);
    if (radicand >= 0.0) {
        const double d2 = std::copysign(std::sqrt(radicand), b - a);
        const double candidate = b - (b - a) * (db + d2 - d1) / (db - da + 2.0 * d2);
        if (std::isfinite(candidate)) t = candidate;
    }
    return std::clamp(t, lo + 0.1 * width, hi - 0.1 * width);
}
}  // namespace lbfgs_detail

/// Minimises `objective` from x (updated in place).
template <class Objective>
LbfgsResult lbfgs_minimize(Objective&& objective, Eigen::VectorXd& x, const LbfgsOptions& options) {
    using Vec = Eigen::VectorXd;
    constexpr double c1 = 1e-3, c2 = 0.9;
    LbfgsResult result;
    Vec g(x.size());
    double f = objective(x, g);
    result.value = f;
    if (x.size() == 0 || g.cwiseAbs().maxCoeff() <= options.gtol) {
        result.converged = true;
        return result;
    }
    std::deque<Vec> s_history, y_history;
    std::deque<double> rho_history;
    Vec direction(x.size()), trial(x.size()), g_trial(x.size()), x_lo(x.size());
    std::vector<double> alpha_two_loop(static_cast<std::size_t>(options.memory));

    for (int iter = 1; iter <= options.max_iter; ++iter) {
        // d = -H g by the two-loop recursion.
        direction = -g;
        const auto m = static_cast<int>(s_history.size());
        for (int j = m - 1; j >= 0; --j) {
            const auto jj = static_cast<std::size_t>(j);
            alpha_two_loop[jj] = rho_history[jj] * s_history[jj].dot(direction);
            direction -= alpha_two_loop[jj] * y_history[jj];
        }
        if (m > 0) direction *= s_history.back().dot(y_history.back()) / y_history.back().squaredNorm();
        for (int j = 0; j < m; ++j) {
            const auto jj = static_cast<std::size_t>(j);
            const double beta = rho_history[jj] * y_history[jj].dot(direction);
            direction += (alpha_two_loop[jj] - beta) * s_history[jj];
        }
        double slope = g.dot(direction);
        if (!(slope < 0.0)) {  // not a descent direction: forget the curvature pairs
            s_history.clear();
            y_history.clear();
            rho_history.clear();
            direction = -g;
            slope = -g.squaredNorm();
        }

        // Strong-Wolfe line search.
        const double f0 = f;
        double alpha = m == 0 ? 1.0 / direction.norm() : 1.0;
        double a_prev = 0.0, f_prev = f0, d_prev = slope;
        double f_trial = 0.0, d_trial = 0.0;
        bool accepted = false;
        auto evaluate = [&](double a) {
            trial = x + a * direction;
            f_trial = objective(trial, g_trial);
            d_trial = g_trial.dot(direction);
        };
        auto zoom = [&](double a_lo, double f_lo, double d_lo, double a_hi, double f_hi, double d_hi, int budget) {
            for (int j = 0; j < budget; ++j) {
                const double a = lbfgs_detail::interpolate(a_lo, f_lo, d_lo, a_hi, f_hi, d_hi);
                evaluate(a);
                if (f_trial > f0 + c1 * a * slope || f_trial >= f_lo) {
                    a_hi = a; f_hi = f_trial; d_hi = d_trial;
                } else {
                    if (std::abs(d_trial) <= -c2 * slope) return true;
                    if (d_trial * (a_hi - a_lo) >= 0.0) {
                        a_hi = a_lo; f_hi = f_lo; d_hi = d_lo;
                    }
                    a_lo = a; f_lo = f_trial; d_lo = d_trial;
                }
                if (std::abs(a_hi - a_lo) <= 1e-16 * std::max(1.0, a_lo)) break;
            }
            // Out of budget: settle for the best point that decreased f, if any.
            if (a_lo > 0.0 && f_lo < f0) {
                evaluate(a_lo);
                return true;
            }
            return false;
        };
        for (int ls = 0; ls < options.max_line_search; ++ls) {
            evaluate(alpha);
            if (!std::isfinite(f_trial) || f_trial > f0 + c1 * alpha * slope || (ls > 0 && f_trial >= f_prev)) {
                if (!std::isfinite(f_trial)) {  // overflow: shrink and retry
                    alpha *= 0.1;
                    continue;
                }
                accepted = zoom(a_prev, f_prev, d_prev, alpha, f_trial, d_trial, options.max_line_search);
                break;
            }
            if (std::abs(d_trial) <= -c2 * slope) {
                accepted = true;
                break;
            }
            if (d_trial >= 0.0) {
                accepted = zoom(alpha, f_trial, d_trial, a_prev, f_prev, d_prev, options.max_line_search);
                break;
            }
            a_prev = alpha; f_prev = f_trial; d_prev = d_trial;
            alpha *= 2.0;
        }
        if (!accepted) {
            result.n_iter = iter - 1;
            result.value = f;
            return result;
        }

        // Curvature pair, kept only when it keeps H positive definite.
        Vec s = trial - x;
        Vec y = g_trial - g;
        const double sy = s.dot(y);
        x = trial;
        g = g_trial;
        const double f_old = f;
        f = f_trial;
        result.n_iter = iter;
        result.value = f;
        if (sy > std::numeric_limits<double>::epsilon() * y.squaredNorm()) {
            if (static_cast<int>(s_history.size()) == options.memory) {
                s_history.pop_front();
                y_history.pop_front();
                rho_history.pop_front();
            }
            s_history.push_back(std::move(s));
            y_history.push_back(std::move(y));
            rho_history.push_back(1.0 / sy);
        }
        if ((f_old - f) / std::max({std::abs(f_old), std::abs(f), 1.0}) <= options.ftol ||
            g.cwiseAbs().maxCoeff() <= options.gtol) {
            result.converged = true;
            return result;
        }
    }
    return result;
}

}  // namespace feral::detail
