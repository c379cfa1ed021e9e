// feral/detail/smo_solver.hpp — libsvm's SMO solver for the C-SVC dual, with its
// kernel cache, for SVC.
//
// The binary C-SVC dual (Chang & Lin, "LIBSVM: a library for support vector machines"):
//   minimise  1/2 a^T Q a - e^T a   subject to  y^T a = 0,  0 <= a_i <= C_i,
//   Q_ij = y_i y_j K(x_i, x_j),  y_i in {+1, -1}.
// Each iteration picks a working pair (i, j) by WSS3 (Fan, Chen & Lin 2005): i is the
// most violating index of I_up, j the index of I_low with the largest second-order
// decrease of the objective; the pair is solved analytically and clipped to the box,
// and the gradient G = Q a - e is updated with the two kernel rows. Iterations stop
// when the maximal violation m(a) - M(a) < eps (scikit-learn's tol). Shrinking
// (every min(l, 1000) iterations) drops bounded variables unlikely to move from the
// active set, and the gradient of the dropped ones is rebuilt from G_bar
// (G_bar_i = sum_{j at upper bound} C_j Q_ij) before the final check. The loop is a
// line-by-line port of libsvm 3.x's Solver (svm.cpp), so iterates and stopping
// points agree with scikit-learn up to float32 kernel rounding.
//
// Kernel rows are computed in float32: a matrix-vector product against the data plus
// the row norms (RBF: exp(-gamma (|x|^2 - 2 x.y + |y|^2))), Eigen-vectorised. Rows are
// kept in an LRU cache of cache_bytes (libsvm's cache_size); when the whole l x l
// matrix fits, it is computed up front with one matrix product instead.
#pragma once

#include "feral/core/huge_pages.hpp"
#include "feral/core/types.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <tuple>
#include <vector>

namespace feral {

/// SVM kernel function.
enum class Kernel : std::int32_t {
    linear,  ///< x . y
    rbf,     ///< exp(-gamma |x - y|^2)
    poly,    ///< (gamma x . y + coef0)^degree
};

namespace detail {

struct KernelParams {
    Kernel kernel = Kernel::rbf;
    double gamma = 1.0;
    int degree = 3;
    double coef0 = 0.0;
};

// GCC 12 warns about _mm512_undefined_ps inside Eigen's AVX-512 exp (GCC bug 105593,
// fixed in GCC 13): a false positive, silenced for this function only.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
/// Turns dot products into kernel values in place. dots[c] = x . y_c, x_norm = |x|^2,
/// y_norms[c] = |y_c|^2 (only read for RBF).
inline void dots_to_kernel(float* dots, Index count, float x_norm, const float* y_norms, const KernelParams& p) {
    Eigen::Map<Eigen::ArrayXf> k(dots, count);
    switch (p.kernel) {
    case Kernel::linear: return;
    case Kernel::rbf: {
        const Eigen::Map<const Eigen::ArrayXf> yn(y_norms, count);
        k = (-static_cast<float>(p.gamma) * ((x_norm + yn) - 2.0f * k).max(0.0f)).exp();
        return;
    }
    case Kernel::poly: {
        const Eigen::ArrayXf base = static_cast<float>(p.gamma) * k + static_cast<float>(p.coef0);
        k = base;
        for (int e = 1; e < p.degree; ++e) k *= base;
        if (p.degree == 0) k.setOnes();
        return;
    }
    }
}
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ == 12
#pragma GCC diagnostic pop
#endif

/// out[c] = K(x, Y_c) for every row c of Y (y_norms = squared row norms of Y).
/// A matrix-vector product, never a matrix-matrix one: Eigen's matrix products
/// split their work over OpenMP threads when it is enabled, and the split changes the
/// rounding, so results would depend on the thread count. The product reads Y once
/// per row; Y (a class pair or the support vectors, n x n_features floats) stays in cache.
inline void kernel_row(const Matrix<float>& Y, const float* y_norms, const float* x, float x_norm, const KernelParams& p,
                       float* out) {
    Eigen::Map<Vector<float>>(out, Y.rows()).noalias() = Y * Eigen::Map<const Vector<float>>(x, Y.cols());
    dots_to_kernel(out, Y.rows(), x_norm, y_norms, p);
}

/// Kernel rows K(x_i, .) of one training problem, with an LRU cache of about cache_bytes
/// kept in `storage` (grown if too small, never shrunk, and outliving this object). Callers
/// solving problems one after another pass the same buffer, so its pages are touched once
/// rather than once per problem: every first touch of a page is a page fault, dear on a
/// virtual machine, and a fresh cache per class pair cost an SVC fit on FER2013 about two
/// fifths of its time (half of it in the fault handler, half zeroing the fresh pages).
class KernelRows {
public:
    KernelRows(Matrix<float> X, KernelParams params, double cache_bytes, Vector<float>& storage)
        : X_(std::move(X)), params_(params) {
        l_ = X_.rows();
        norms_ = X_.rowwise().squaredNorm();
        diag_.resize(l_);
        for (Index i = 0; i < l_; ++i) {
            float v = norms_[i];
            dots_to_kernel(&v, 1, norms_[i], &norms_[i], params_);
            diag_[i] = v;
        }
        const double row_bytes = static_cast<double>((l_ + 15) / 16 * 16) * sizeof(float);
        capacity_ = static_cast<Index>(std::clamp(cache_bytes / row_bytes, 2.0, static_cast<double>(l_)));
        // Rows start on 64-byte boundaries: Eigen peels unaligned heads with scalar code
        // (scalar exp rounds differently), so equal rows must have equal alignment.
        stride_ = (l_ + 15) / 16 * 16;
        // Where the cache bounds the rows kept, take the whole bound at once: the next,
        // slightly narrower problem then fits its rows in it too, rather than reallocating
        // (and faulting in) a buffer a few rows larger.
        const Index need = capacity_ * stride_;
        const auto bound = static_cast<Index>(cache_bytes / sizeof(float));
        if (storage.size() < need) {
            storage.resize(capacity_ < l_ ? std::max(need, bound) : need);
            advise_huge_pages(storage);  // before its first touch: see core/huge_pages.hpp
        }
        storage_ = storage.data();
        slot_of_row_.assign(static_cast<std::size_t>(l_), -1);
        row_of_slot_.assign(static_cast<std::size_t>(capacity_), -1);
        last_use_.assign(static_cast<std::size_t>(capacity_), 0);
        if (capacity_ == l_)  // everything fits: compute every row now
            for (Index i = 0; i < l_; ++i) {
                slot_of_row_[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i);
                row_of_slot_[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i);
                compute_row(i, storage_ + i * stride_);
            }
    }

    [[nodiscard]] Index size() const { return l_; }
    [[nodiscard]] double diag(Index i) const { return diag_[i]; }

    /// Row i (l values). Stays valid until two more distinct rows are requested.
    const float* row(Index i) {
        ++clock_;
        std::int32_t slot = slot_of_row_[static_cast<std::size_t>(i)];
        if (slot < 0) {
            slot = static_cast<std::int32_t>(std::min_element(last_use_.begin(), last_use_.end()) - last_use_.begin());
            const std::int32_t old = row_of_slot_[static_cast<std::size_t>(slot)];
            if (old >= 0) slot_of_row_[static_cast<std::size_t>(old)] = -1;
            row_of_slot_[static_cast<std::size_t>(slot)] = static_cast<std::int32_t>(i);
            slot_of_row_[static_cast<std::size_t>(i)] = slot;
            compute_row(i, storage_ + static_cast<Index>(slot) * stride_);
        }
        last_use_[static_cast<std::size_t>(slot)] = clock_;
        return storage_ + static_cast<Index>(slot) * stride_;
    }

private:
    void compute_row(Index i, float* out) const {
        kernel_row(X_, norms_.data(), X_.row(i).data(), norms_[i], params_, out);
    }

    Matrix<float> X_;
    KernelParams params_;
    Index l_ = 0, capacity_ = 0, stride_ = 0;
    Vector<float> norms_;
    Vector<double> diag_;
    float* storage_ = nullptr;  ///< capacity_ rows of stride_ floats (an Eigen allocation: 64-byte aligned)
    std::vector<std::int32_t> slot_of_row_, row_of_slot_;
    std::vector<std::uint64_t> last_use_;
    std::uint64_t clock_ = 0;
};

struct SmoResult {
    std::vector<double> alpha;
    double rho = 0.0;
    std::int64_t iterations = 0;
    bool reached_max_iter = false;
};

/// libsvm's Solver for C-SVC (p = -e). y[i] is +1 or -1; C[i] the box bound of a_i.
inline SmoResult solve_smo(KernelRows& Q, const std::vector<std::int8_t>& y, const std::vector<double>& C, double eps,
                           bool shrinking, std::int64_t max_iter) {
    constexpr double kTau = 1e-12;
    constexpr double kInf = std::numeric_limits<double>::infinity();
    const Index l = Q.size();
    enum Status : std::uint8_t { lower, upper, free_ };
    std::vector<double> alpha(static_cast<std::size_t>(l), 0.0), G(static_cast<std::size_t>(l), -1.0), G_bar(static_cast<std::size_t>(l), 0.0);
    std::vector<Status> status(static_cast<std::size_t>(l), lower);
    std::vector<std::int32_t> perm(static_cast<std::size_t>(l));  // perm[0, active) are the active variables
    for (Index i = 0; i < l; ++i) perm[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(i);
    Index active = l;
    bool unshrink = false;
    auto at = [](auto& v, Index i) -> auto& { return v[static_cast<std::size_t>(i)]; };
    auto update_status = [&](Index i) {
        at(status, i) = at(alpha, i) >= at(C, i) ? upper : at(alpha, i) <= 0 ? lower : free_;
    };
    auto is_upper = [&](Index i) { return at(status, i) == upper; };
    auto is_lower = [&](Index i) { return at(status, i) == lower; };

    auto reconstruct_gradient = [&] {
        if (active == l) return;
        for (Index s = active; s < l; ++s) {
            const Index j = at(perm, s);
            at(G, j) = at(G_bar, j) - 1.0;
        }
        for (Index s = 0; s < active; ++s) {
            const Index i = at(perm, s);
            if (at(status, i) != free_) continue;
            const float* Ki = Q.row(i);
            const double ai = at(alpha, i) * at(y, i);
            for (Index t = active; t < l; ++t) {
                const Index j = at(perm, t);
                at(G, j) += ai * at(y, j) * static_cast<double>(Ki[j]);
            }
        }
    };

    // WSS3. Returns false when optimal (maximal violation < eps).
    auto select_working_set = [&](Index& out_i, Index& out_j) {
        double Gmax = -kInf, Gmax2 = -kInf, obj_diff_min = kInf;
        Index Gmax_idx = -1, Gmin_idx = -1;
        for (Index s = 0; s < active; ++s) {
            const Index t = at(perm, s);
            if (at(y, t) == 1) {
                if (!is_upper(t) && -at(G, t) >= Gmax) { Gmax = -at(G, t); Gmax_idx = t; }
            } else {
                if (!is_lower(t) && at(G, t) >= Gmax) { Gmax = at(G, t); Gmax_idx = t; }
            }
        }
        const Index i = Gmax_idx;
        const float* Ki = i >= 0 ? Q.row(i) : nullptr;
        for (Index s = 0; s < active; ++s) {
            const Index j = at(perm, s);
            if (at(y, j) == 1) {
                if (is_lower(j)) continue;
                const double grad_diff = Gmax + at(G, j);
                if (at(G, j) >= Gmax2) Gmax2 = at(G, j);
                if (grad_diff > 0) {
                    const double quad = Q.diag(i) + Q.diag(j) - 2.0 * static_cast<double>(Ki[j]);
                    const double obj_diff = -(grad_diff * grad_diff) / (quad > 0 ? quad : kTau);
                    if (obj_diff <= obj_diff_min) { Gmin_idx = j; obj_diff_min = obj_diff; }
                }
            } else {
                if (is_upper(j)) continue;
                const double grad_diff = Gmax - at(G, j);
                if (-at(G, j) >= Gmax2) Gmax2 = -at(G, j);
                if (grad_diff > 0) {
                    const double quad = Q.diag(i) + Q.diag(j) - 2.0 * static_cast<double>(Ki[j]);
                    const double obj_diff = -(grad_diff * grad_diff) / (quad > 0 ? quad : kTau);
                    if (obj_diff <= obj_diff_min) { Gmin_idx = j; obj_diff_min = obj_diff; }
                }
            }
        }
        if (Gmax + Gmax2 < eps || Gmin_idx == -1) return false;
        out_i = Gmax_idx;
        out_j = Gmin_idx;
        return true;
    };

    auto be_shrunk = [&](Index i, double Gmax1, double Gmax2) {
        if (is_upper(i)) return at(y, i) == 1 ? -at(G, i) > Gmax1 : -at(G, i) > Gmax2;
        if (is_lower(i)) return at(y, i) == 1 ? at(G, i) > Gmax2 : at(G, i) > Gmax1;
        return false;
    };

    auto do_shrinking = [&] {
        double Gmax1 = -kInf, Gmax2 = -kInf;
        for (Index s = 0; s < active; ++s) {
            const Index i = at(perm, s);
            if (at(y, i) == 1) {
                if (!is_upper(i)) Gmax1 = std::max(Gmax1, -at(G, i));
                if (!is_lower(i)) Gmax2 = std::max(Gmax2, at(G, i));
            } else {
                if (!is_upper(i)) Gmax2 = std::max(Gmax2, -at(G, i));
                if (!is_lower(i)) Gmax1 = std::max(Gmax1, at(G, i));
            }
        }
        if (!unshrink && Gmax1 + Gmax2 <= eps * 10) {
            unshrink = true;
            reconstruct_gradient();
            active = l;
        }
        for (Index s = 0; s < active; ++s) {
            if (!be_shrunk(at(perm, s), Gmax1, Gmax2)) continue;
            --active;
            while (active > s) {
                if (!be_shrunk(at(perm, active), Gmax1, Gmax2)) {
                    std::swap(at(perm, s), at(perm, active));
                    break;
                }
                --active;
            }
        }
    };

    if (max_iter <= 0) max_iter = std::max<std::int64_t>(10000000, 100 * static_cast<std::int64_t>(l));
    std::int64_t iter = 0;
    Index counter = std::min<Index>(l, 1000) + 1;
    bool reached_max = true;
    while (iter < max_iter) {
        if (--counter == 0) {
            counter = std::min<Index>(l, 1000);
            if (shrinking) do_shrinking();
        }
        Index i = -1, j = -1;
        if (!select_working_set(i, j)) {
            reconstruct_gradient();
            active = l;
            if (!select_working_set(i, j)) {
                reached_max = false;
                break;
            }
            counter = 1;  // shrink at the next iteration
        }
        ++iter;
        const float* Ki = Q.row(i);
        const float* Kj = Q.row(j);
        const double Ci = at(C, i), Cj = at(C, j);
        const double old_ai = at(alpha, i), old_aj = at(alpha, j);
        double& ai = at(alpha, i);
        double& aj = at(alpha, j);
        const double Kij = Ki[j];
        if (at(y, i) != at(y, j)) {
            double quad = Q.diag(i) + Q.diag(j) - 2.0 * Kij;  // a_ij = K_ii + K_jj - 2 K_ij whatever the labels
            if (quad <= 0) quad = kTau;
            const double delta = (-at(G, i) - at(G, j)) / quad;
            const double diff = ai - aj;
            ai += delta;
            aj += delta;
            if (diff > 0) {
                if (aj < 0) { aj = 0; ai = diff; }
            } else {
                if (ai < 0) { ai = 0; aj = -diff; }
            }
            if (diff > Ci - Cj) {
                if (ai > Ci) { ai = Ci; aj = Ci - diff; }
            } else {
                if (aj > Cj) { aj = Cj; ai = Cj + diff; }
            }
        } else {
            double quad = Q.diag(i) + Q.diag(j) - 2.0 * Kij;
            if (quad <= 0) quad = kTau;
            const double delta = (at(G, i) - at(G, j)) / quad;
            const double sum = ai + aj;
            ai -= delta;
            aj += delta;
            if (sum > Ci) {
                if (ai > Ci) { ai = Ci; aj = sum - Ci; }
            } else {
                if (aj < 0) { aj = 0; ai = sum; }
            }
            if (sum > Cj) {
                if (aj > Cj) { aj = Cj; ai = sum - Cj; }
            } else {
                if (ai < 0) { ai = 0; aj = sum; }
            }
        }
        // G_k += Q_ki da_i + Q_kj da_j, with Q_kt = y_k y_t K_kt.
        const double di = (ai - old_ai) * at(y, i), dj = (aj - old_aj) * at(y, j);
        for (Index s = 0; s < active; ++s) {
            const Index k = at(perm, s);
            at(G, k) += at(y, k) * (di * static_cast<double>(Ki[k]) + dj * static_cast<double>(Kj[k]));
        }
        const bool was_upper_i = is_upper(i), was_upper_j = is_upper(j);
        update_status(i);
        update_status(j);
        for (const auto& [t, was_upper, Ct] : {std::tuple{i, was_upper_i, Ci}, std::tuple{j, was_upper_j, Cj}}) {
            if (was_upper == is_upper(t)) continue;
            const float* Kt = Q.row(t);
            const double sign = (was_upper ? -Ct : Ct) * at(y, t);
            for (Index k = 0; k < l; ++k) at(G_bar, k) += sign * at(y, k) * static_cast<double>(Kt[k]);
        }
    }
    if (reached_max && active < l) {
        reconstruct_gradient();
        active = l;
    }

    // rho: mean of y_i G_i over free variables, else the middle of the feasible interval.
    double ub = kInf, lb = -kInf, sum_free = 0.0;
    Index n_free = 0;
    for (Index i = 0; i < l; ++i) {
        const double yG = at(y, i) * at(G, i);
        if (is_upper(i)) {
            if (at(y, i) == -1) ub = std::min(ub, yG); else lb = std::max(lb, yG);
        } else if (is_lower(i)) {
            if (at(y, i) == 1) ub = std::min(ub, yG); else lb = std::max(lb, yG);
        } else {
            ++n_free;
            sum_free += yG;
        }
    }
    SmoResult result;
    result.rho = n_free > 0 ? sum_free / static_cast<double>(n_free) : (ub + lb) / 2;
    result.alpha = std::move(alpha);
    result.iterations = iter;
    result.reached_max_iter = reached_max;
    return result;
}

}  // namespace detail
}  // namespace feral
