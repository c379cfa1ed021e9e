// feral/models/logistic_regression.hpp — L2-regularised logistic regression
// (scikit-learn 1.2's LogisticRegression with multi_class='auto', solvers lbfgs and saga).
//
// Template parameter T: the scalar type of X (float by default).
//
// Example:
//   feral::LogisticRegression<> model({.C = 0.5, .max_iter = 2000, .tol = 1e-3});
//   model.fit(X_train, y_train);
//   feral::Matrix<float> proba = model.predict_proba(X_test);   // columns follow classes()
//   const auto& W = model.coef();                               // classes x features
//
// The model. With K classes and K > 2, the multinomial (softmax) model
//     P(class k | x) = exp(z_k) / sum_j exp(z_j),   z = W x + b,   W: K x D,
// fitted by minimising, with sample weights s_i (the class weights),
//     sum_i s_i (logsumexp(z_i) - z_{i,y_i}) + 1/(2C) |W|^2           (penalty l2)
// (the intercepts are not penalised; penalty none drops the last term). With K = 2
// the binary model P(class 1 | x) = sigmoid(w.x + b) is fitted instead (W is 1 x D),
// as scikit-learn does for two classes, with the loss s_i (log(1 + e^z) - y z).
//
// Solvers:
//   lbfgs  L-BFGS (detail/optim/lbfgs.hpp) on the objective above; stops when
//          max |gradient| <= tol or the objective stalls (scipy's rules). The loss
//          and gradient are batched: Z = X W^T per block of rows, softmax, then
//          G = (P - Y)^T X, two matrix products per block, blocks in parallel and
//          summed in a fixed order (identical results for any thread count).
//   saga   SAGA (Defazio, Bach & Lacoste-Julien 2014) on the same objective divided
//          by N, sampling rows uniformly with replacement, with scikit-learn's step
//          size 1 / (2L + min(2 N alpha, L)), L = (max_i |x_i|^2 + fit_intercept) / 4
//          + alpha, alpha = 1 / (C N); the L2 shrinkage is kept as a double scale
//          factor on the weights (so it is not lost to float rounding). Stops after
//          an epoch in which max |change of W| / max |W| <= tol. Sequential by
//          nature: one thread, a tight loop of vectorised row updates.
//
// Parameters (defaults = scikit-learn 1.2):
//   penalty        l2       l2 or none
//   C              1.0      inverse regularisation strength, > 0
//   fit_intercept  true
//   tol            1e-4     > 0
//   max_iter       100      L-BFGS iterations / SAGA epochs, >= 1
//   solver         lbfgs    lbfgs or saga
//   class_weight   none     none, balanced, custom({{label, weight}, ...}) (detail/class_weight.hpp)
//   random_state   0        SAGA's sampling order
//   n_threads      0        threads for the L-BFGS gradient and for prediction (0 = automatic)
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/random.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/core/validation.hpp"
#include "feral/detail/class_weight.hpp"
#include "feral/detail/optim/lbfgs.hpp"
#include "feral/models/class_labels.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace feral {

enum class LogisticSolver : std::int32_t { lbfgs, saga };
enum class Penalty : std::int32_t { l2, none };

template <class T = float>
class LogisticRegression {
public:
    using scalar_type = T;

    struct Config {
        Penalty penalty = Penalty::l2;
        double C = 1.0;
        bool fit_intercept = true;
        double tol = 1e-4;
        int max_iter = 100;
        LogisticSolver solver = LogisticSolver::lbfgs;
        ClassWeight class_weight = ClassWeight::none();
        std::uint64_t random_state = 0;
        int n_threads = 0;
    };

    LogisticRegression() = default;
    explicit LogisticRegression(Config config) : config_(std::move(config)) {}

    LogisticRegression& fit(ConstMatrixRef<T> X, ConstLabelsRef y) {
        constexpr const char* where = "LogisticRegression::fit";
        check_params(where);
        check_fit_input(X, y, where);
        ClassLabels classes;
        classes.fit(y, where);
        const Labels dense = classes.encode(y, where);
        const auto per_class = config_.class_weight.per_class(classes, dense, where);
        Vector<double> weight(X.rows());
        for (Index i = 0; i < X.rows(); ++i) weight[i] = per_class[static_cast<std::size_t>(dense[i])];

        const Index rows_of_w = classes.size() == 2 ? 1 : classes.size();
        Matrix<double> W = Matrix<double>::Zero(rows_of_w, X.cols());
        Vector<double> b = Vector<double>::Zero(rows_of_w);
        int n_iter = 0;
        if (config_.solver == LogisticSolver::lbfgs)
            n_iter = fit_lbfgs(X, dense, weight, W, b);
        else
            n_iter = fit_saga(X, dense, weight, W, b);
        if (!W.allFinite() || !b.allFinite())
            detail::fail<numerical_error>(where, ": the coefficients diverged (NaN or infinite); scale the features "
                                                 "(StandardScaler) or lower C");
        classes_ = std::move(classes);
        coef_ = W.cast<T>();
        intercept_ = b.cast<T>();
        n_iter_ = n_iter;
        return *this;
    }

    /// Decision values z = X W^T + b: N x K for K > 2 classes, N x 1 for two classes.
    [[nodiscard]] Matrix<T> decision_function(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "LogisticRegression");
        check_predict_input(X, coef_.cols(), "LogisticRegression::decision_function");
        return decisions(X);
    }

    /// Class probabilities, columns following classes().
    [[nodiscard]] Matrix<T> predict_proba(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "LogisticRegression");
        check_predict_input(X, coef_.cols(), "LogisticRegression::predict_proba");
        const Matrix<T> Z = decisions(X);
        Matrix<T> P(X.rows(), classes_.size());
        std::vector<double> p(static_cast<std::size_t>(classes_.size()));
        for (Index i = 0; i < X.rows(); ++i) {
            probabilities(Z.row(i).data(), Z.cols(), p.data());
            for (Index k = 0; k < P.cols(); ++k) P(i, k) = static_cast<T>(p[static_cast<std::size_t>(k)]);
        }
        return P;
    }

    [[nodiscard]] Labels predict(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "LogisticRegression");
        check_predict_input(X, coef_.cols(), "LogisticRegression::predict");
        const Matrix<T> Z = decisions(X);
        if (Z.cols() > 1) return classes_.decode_argmax(Z);
        Labels out(X.rows());  // two classes: one decision column, positive means the second class
        for (Index i = 0; i < X.rows(); ++i) out[i] = classes_.decode(Z(i, 0) > T(0) ? 1 : 0);
        return out;
    }

    /// Mean accuracy in [0, 1].
    [[nodiscard]] double score(ConstMatrixRef<T> X, ConstLabelsRef y) const {
        return accuracy_against(predict(X), y, classes_, "LogisticRegression::score");
    }

    [[nodiscard]] const std::vector<int>& classes() const { return classes_.classes(); }
    [[nodiscard]] bool is_fitted() const { return !classes_.empty(); }
    [[nodiscard]] const Config& config() const { return config_; }
    /// K x D (1 x D for two classes: the weights of classes()[1]).
    [[nodiscard]] const Matrix<T>& coef() const { check_fitted(is_fitted(), "LogisticRegression"); return coef_; }
    /// K (1 for two classes); zeros when fit_intercept is false.
    [[nodiscard]] const Vector<T>& intercept() const { check_fitted(is_fitted(), "LogisticRegression"); return intercept_; }
    /// L-BFGS iterations or SAGA epochs run.
    [[nodiscard]] int n_iter() const { check_fitted(is_fitted(), "LogisticRegression"); return n_iter_; }
    [[nodiscard]] Index n_features_in() const { return coef_.cols(); }

    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const {
        check_fitted(is_fitted(), "LogisticRegression");
        ByteWriter w;
        w.write(config_.penalty);
        w.write(config_.C);
        w.write<std::uint8_t>(config_.fit_intercept ? 1 : 0);
        w.write(config_.tol);
        w.write<std::int32_t>(config_.max_iter);
        w.write(config_.solver);
        config_.class_weight.save(w);
        w.write(config_.random_state);
        w.write<std::int32_t>(config_.n_threads);
        classes_.save(w);
        w.write_matrix(coef_);
        w.write_matrix(intercept_);
        w.write<std::int32_t>(n_iter_);
        write_container(path, type_tag(), 1, w.bytes(), overwrite);
    }

    static LogisticRegression load(const std::filesystem::path& path) {
        const auto c = read_container(path, type_tag());
        if (c.payload_version() != 1)
            detail::fail<format_error>(path.string(), ": LogisticRegression payload version ", c.payload_version(),
                                       " is not supported");
        ByteReader r = c.reader();
        LogisticRegression model;
        auto& cfg = model.config_;
        cfg.penalty = r.read<Penalty>();
        cfg.C = r.read<double>();
        cfg.fit_intercept = r.read<std::uint8_t>() != 0;
        cfg.tol = r.read<double>();
        cfg.max_iter = r.read<std::int32_t>();
        cfg.solver = r.read<LogisticSolver>();
        cfg.class_weight.load(r);
        cfg.random_state = r.read<std::uint64_t>();
        cfg.n_threads = r.read<std::int32_t>();
        model.classes_.load(r);
        model.coef_ = r.read_matrix<Matrix<T>>();
        model.intercept_ = r.read_matrix<Vector<T>>();
        model.n_iter_ = r.read<std::int32_t>();
        r.expect_end();
        const Index expected_rows = model.classes_.size() == 2 ? 1 : model.classes_.size();
        if (model.classes_.size() < 2 || model.coef_.rows() != expected_rows || model.intercept_.size() != expected_rows ||
            !model.coef_.allFinite() || !model.intercept_.allFinite())
            detail::fail<format_error>(path.string(), ": inconsistent LogisticRegression payload");
        return model;
    }

    static std::string type_tag() { return std::string("LogisticRegression<") + scalar_name<T>() + ">"; }

private:
    void check_params(const char* where) const {
        if (config_.penalty != Penalty::l2 && config_.penalty != Penalty::none)
            detail::fail(where, ": unknown penalty ", static_cast<int>(config_.penalty));
        if (config_.penalty == Penalty::l2 && (!(config_.C > 0.0) || !std::isfinite(config_.C)))
            detail::fail(where, ": C = ", config_.C, " must be a positive finite number");
        if (!(config_.tol > 0.0) || !std::isfinite(config_.tol))
            detail::fail(where, ": tol = ", config_.tol, " must be a positive finite number");
        if (config_.max_iter < 1) detail::fail(where, ": max_iter = ", config_.max_iter, " must be >= 1");
        if (config_.solver != LogisticSolver::lbfgs && config_.solver != LogisticSolver::saga)
            detail::fail(where, ": unknown solver ", static_cast<int>(config_.solver));
        if (config_.n_threads < 0) detail::fail(where, ": n_threads = ", config_.n_threads, " must be >= 0");
    }

    /// The L2 strength of the summed objective (0 without penalty).
    [[nodiscard]] double l2_strength() const { return config_.penalty == Penalty::l2 ? 1.0 / config_.C : 0.0; }

    /// Probabilities from one row of decision values (m = 1: binary, else softmax).
    static void probabilities(const T* z, Index m, double* p) {
        if (m == 1) {
            const double s = 1.0 / (1.0 + std::exp(-static_cast<double>(z[0])));
            p[0] = 1.0 - s;
            p[1] = s;
            return;
        }
        double top = static_cast<double>(z[0]);
        for (Index k = 1; k < m; ++k) top = std::max(top, static_cast<double>(z[k]));
        double sum = 0.0;
        for (Index k = 0; k < m; ++k) sum += p[k] = std::exp(static_cast<double>(z[k]) - top);
        for (Index k = 0; k < m; ++k) p[k] /= sum;
    }

    /// Loss of one sample and d loss / d z (written to residual), for decision values z.
    /// Binary: log(1 + e^z) - y z and sigmoid(z) - y; softmax: logsumexp(z) - z_y and p - onehot(y).
    static double sample_loss(const double* z, Index m, int label, double* residual) {
        if (m == 1) {
            const double v = z[0], y = label == 1 ? 1.0 : 0.0;
            // log(1 + e^v) without overflow.
            const double log1pexp = v > 0 ? v + std::log1p(std::exp(-v)) : std::log1p(std::exp(v));
            residual[0] = 1.0 / (1.0 + std::exp(-v)) - y;
            return log1pexp - y * v;
        }
        double top = z[0];
        for (Index k = 1; k < m; ++k) top = std::max(top, z[k]);
        double sum = 0.0;
        for (Index k = 0; k < m; ++k) sum += residual[k] = std::exp(z[k] - top);
        for (Index k = 0; k < m; ++k) residual[k] /= sum;
        residual[label] -= 1.0;
        return top + std::log(sum) - z[label];
    }

    Matrix<T> decisions(ConstMatrixRef<T> X) const {
        Matrix<T> Z(X.rows(), coef_.rows());
        const Index block = 1024;
        parallel_for(0, (X.rows() + block - 1) / block, config_.n_threads, [&](std::int64_t first, std::int64_t last) {
            for (Index b = first; b < last; ++b) {
                const Index r0 = b * block, rows = std::min(block, X.rows() - r0);
                Z.middleRows(r0, rows).noalias() = X.middleRows(r0, rows) * coef_.transpose();
                Z.middleRows(r0, rows).rowwise() += intercept_.transpose();
            }
        });
        return Z;
    }

    // ---- L-BFGS -----------------------------------------------------------------------

    int fit_lbfgs(ConstMatrixRef<T> X, const Labels& y, const Vector<double>& weight, Matrix<double>& W,
                  Vector<double>& b) const {
        const Index n = X.rows(), d = X.cols(), m = W.rows();
        const bool intercept = config_.fit_intercept;
        const double l2 = l2_strength();
        // Work units: a fixed partition of the rows (independent of the thread count),
        // each producing a partial gradient summed afterwards in unit order.
        const Index n_units = std::max<Index>(1, std::min<Index>(64, (n + 255) / 256));
        std::vector<Matrix<T>> partial_w(static_cast<std::size_t>(n_units));
        std::vector<Vector<double>> partial_b(static_cast<std::size_t>(n_units));
        std::vector<double> partial_loss(static_cast<std::size_t>(n_units));
        Matrix<T> Wt(m, d);
        Vector<T> bt(m);
        // Small problems stay on the calling thread: waking a team for every one of up to
        // thousands of evaluations costs more than it saves (results do not depend on it).
        const double work = static_cast<double>(n) * static_cast<double>(d) * static_cast<double>(m);
        const int threads = work < 4194304.0 ? 1 : config_.n_threads;

        auto objective = [&](const Eigen::VectorXd& params, Eigen::VectorXd& grad) {
            const Eigen::Map<const Matrix<double>> Wp(params.data(), m, d);
            Wt = Wp.cast<T>();
            bt = intercept ? params.tail(m).cast<T>().eval() : Vector<T>::Zero(m).eval();
            parallel_for(0, n_units, threads, [&](std::int64_t first, std::int64_t last) {
                Matrix<T> Z;
                std::vector<double> z(static_cast<std::size_t>(m)), r(static_cast<std::size_t>(m));
                for (Index u = first; u < last; ++u) {
                    const Index r0 = n * u / n_units, rows = n * (u + 1) / n_units - r0;
                    const auto block = X.middleRows(r0, rows);
                    Z.noalias() = block * Wt.transpose();
                    double loss = 0.0;
                    Vector<double> gb = Vector<double>::Zero(m);
                    for (Index i = 0; i < rows; ++i) {
                        for (Index k = 0; k < m; ++k) z[static_cast<std::size_t>(k)] = static_cast<double>(Z(i, k)) + static_cast<double>(bt[k]);
                        const double s = weight[r0 + i];
                        loss += s * sample_loss(z.data(), m, y[r0 + i], r.data());
                        for (Index k = 0; k < m; ++k) {
                            const double g = s * r[static_cast<std::size_t>(k)];
                            Z(i, k) = static_cast<T>(g);
                            gb[k] += g;
                        }
                    }
                    auto& pw = partial_w[static_cast<std::size_t>(u)];
                    pw.noalias() = Z.transpose() * block;
                    partial_b[static_cast<std::size_t>(u)] = gb;
                    partial_loss[static_cast<std::size_t>(u)] = loss;
                }
            });
            Eigen::Map<Matrix<double>> gW(grad.data(), m, d);
            gW = l2 * Wp;
            double loss = 0.5 * l2 * Wp.squaredNorm();
            Vector<double> gb = Vector<double>::Zero(m);
            for (Index u = 0; u < n_units; ++u) {
                gW += partial_w[static_cast<std::size_t>(u)].template cast<double>();
                gb += partial_b[static_cast<std::size_t>(u)];
                loss += partial_loss[static_cast<std::size_t>(u)];
            }
            if (intercept) grad.tail(m) = gb;
            return loss;
        };

        Eigen::VectorXd params = Eigen::VectorXd::Zero(m * d + (intercept ? m : 0));
        detail::LbfgsOptions options;
        options.max_iter = config_.max_iter;
        options.gtol = config_.tol;
        const auto result = detail::lbfgs_minimize(objective, params, options);
        W = Eigen::Map<const Matrix<double>>(params.data(), m, d);
        if (intercept) b = params.tail(m);
        return result.n_iter;
    }

    // ---- SAGA -------------------------------------------------------------------------

    int fit_saga(ConstMatrixRef<T> X, const Labels& y, const Vector<double>& weight, Matrix<double>& W_out,
                 Vector<double>& b) const {
        const Index n = X.rows(), d = X.cols(), m = W_out.rows();
        const bool intercept = config_.fit_intercept;
        const double alpha = l2_strength() / static_cast<double>(n);  // the objective divided by N
        const double max_squared_sum = X.template cast<double>().rowwise().squaredNorm().maxCoeff();
        const double L = 0.25 * (max_squared_sum + (intercept ? 1.0 : 0.0)) + alpha;
        const double step = 1.0 / (2.0 * L + std::min(2.0 * static_cast<double>(n) * alpha, L));
        const double decay = 1.0 - step * alpha;

        // True weights = scale * W (the L2 shrinkage only multiplies `scale`).
        Matrix<T> W = Matrix<T>::Zero(m, d);
        double scale = 1.0;
        Matrix<T> sum_gradient = Matrix<T>::Zero(m, d);
        Matrix<double> memory = Matrix<double>::Zero(n, m);  // last d loss / d z of each sample (weighted)
        Vector<double> intercept_sum = Vector<double>::Zero(m);
        Matrix<T> previous = Matrix<T>::Zero(m, d);
        std::vector<char> seen(static_cast<std::size_t>(n), 0);
        Index n_seen = 0;
        std::vector<double> z(static_cast<std::size_t>(m)), r(static_cast<std::size_t>(m)), correction(static_cast<std::size_t>(m));
        Random rng(config_.random_state);

        auto rescale = [&] {
            W *= static_cast<T>(scale);
            scale = 1.0;
        };

        int epoch = 0;
        while (epoch < config_.max_iter) {
            ++epoch;
            for (Index it = 0; it < n; ++it) {
                const auto i = static_cast<Index>(rng.below(static_cast<std::uint64_t>(n)));
                if (!seen[static_cast<std::size_t>(i)]) {
                    seen[static_cast<std::size_t>(i)] = 1;
                    ++n_seen;
                }
                const auto x = X.row(i);
                // Prediction with the current weights.
                for (Index k = 0; k < m; ++k)
                    z[static_cast<std::size_t>(k)] = scale * static_cast<double>(W.row(k).dot(x)) + b[k];
                (void)sample_loss(z.data(), m, y[i], r.data());
                const double s = weight[i];
                for (Index k = 0; k < m; ++k) {
                    const double g = s * r[static_cast<std::size_t>(k)];
                    correction[static_cast<std::size_t>(k)] = g - memory(i, k);
                    memory(i, k) = g;
                }
                // w <- decay * w - step (1 - 1/seen) correction x - step / seen * (sum_gradient + correction x),
                // in scaled form: the decay goes into `scale`, the rest is divided by it.
                scale *= decay;
                const double seen_inv = 1.0 / static_cast<double>(n_seen);
                const double a = step * (1.0 - seen_inv) / scale, c = step * seen_inv / scale;
                // One fused pass per class over (w, sum_gradient, x); GCC vectorises it.
                const T* xp = x.data();
                for (Index k = 0; k < m; ++k) {
                    const double ck = correction[static_cast<std::size_t>(k)];
                    T* w = W.row(k).data();
                    T* sg = sum_gradient.row(k).data();
                    const T g = static_cast<T>(ck), wg = static_cast<T>(a * ck), ws = static_cast<T>(c);
                    for (Index j = 0; j < d; ++j) {
                        const T updated = sg[j] + g * xp[j];
                        sg[j] = updated;
                        w[j] -= wg * xp[j] + ws * updated;
                    }
                }
                if (intercept)
                    for (Index k = 0; k < m; ++k) {
                        const double ck = correction[static_cast<std::size_t>(k)];
                        intercept_sum[k] += ck;
                        b[k] -= step * intercept_sum[k] * seen_inv + ck * step * (1.0 - seen_inv);
                    }
                if (scale < 1e-9) rescale();
            }
            rescale();
            if (!W.allFinite() || !b.allFinite()) break;
            const double max_weight = static_cast<double>(W.cwiseAbs().maxCoeff());
            const double max_change = static_cast<double>((W - previous).cwiseAbs().maxCoeff());
            previous = W;
            if ((max_weight != 0.0 && max_change / max_weight <= config_.tol) || (max_weight == 0.0 && max_change == 0.0))
                break;
        }
        W_out = W.template cast<double>();
        return epoch;
    }

    Config config_;
    ClassLabels classes_;
    Matrix<T> coef_;
    Vector<T> intercept_;
    int n_iter_ = 0;
};

}  // namespace feral
