// Small estimators that follow feral's estimator contract, used by the pipeline, cross-
// validation and grid-search tests so those tests do not depend on the real models.
#pragma once

#include <feral/core/error.hpp>
#include <feral/core/serialize.hpp>
#include <feral/core/types.hpp>
#include <feral/core/validation.hpp>
#include <feral/models/class_labels.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

namespace feral::test {

/// Centres and scales each column (a StandardScaler without the corner cases).
template <class T = float>
class ToyScaler {
public:
    ToyScaler& fit(ConstMatrixRef<T> X) {
        check_not_empty(X, "ToyScaler::fit");
        mean_ = X.colwise().mean();
        scale_ = ((X.rowwise() - mean_).array().square().colwise().mean()).sqrt().matrix();
        for (Index j = 0; j < scale_.size(); ++j)
            if (scale_[j] == T(0)) scale_[j] = T(1);
        return *this;
    }
    Matrix<T> transform(ConstMatrixRef<T> X) const {
        check_fitted(mean_.size() > 0, "ToyScaler");
        check_predict_input(X, mean_.size(), "ToyScaler::transform");
        return (X.rowwise() - mean_).array().rowwise() / scale_.array();
    }
    [[nodiscard]] bool is_fitted() const { return mean_.size() > 0; }
    [[nodiscard]] const RowVector<T>& mean() const { return mean_; }

    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const {
        ByteWriter w;
        w.write_matrix(mean_);
        w.write_matrix(scale_);
        write_container(path, tag(), 1, w.bytes(), overwrite);
    }
    static ToyScaler load(const std::filesystem::path& path) {
        const auto c = read_container(path, tag());
        ByteReader r = c.reader();
        ToyScaler out;
        out.mean_ = r.read_matrix<RowVector<T>>();
        out.scale_ = r.read_matrix<RowVector<T>>();
        r.expect_end();
        return out;
    }
    static std::string tag() { return std::string("ToyScaler<") + scalar_name<T>() + ">"; }

private:
    RowVector<T> mean_;
    RowVector<T> scale_;
};

/// Keeps the first `keep` columns; has fit_transform so the pipeline should call it
/// (counted in fit_transform_calls) instead of fit then transform.
template <class T = float>
class ToyColumnSelector {
public:
    struct Config {
        Index keep = 2;
    };
    ToyColumnSelector() = default;
    explicit ToyColumnSelector(Config config) : config_(config) {}

    ToyColumnSelector& fit(ConstMatrixRef<T> X) {
        if (config_.keep < 1 || config_.keep > X.cols())
            detail::fail("ToyColumnSelector::fit: keep must be in 1..", X.cols(), ", got ", config_.keep);
        n_features_ = X.cols();
        ++fit_calls;
        return *this;
    }
    Matrix<T> fit_transform(ConstMatrixRef<T> X) {
        fit(X);
        --fit_calls;
        ++fit_transform_calls;
        return transform(X);
    }
    Matrix<T> transform(ConstMatrixRef<T> X) const {
        check_fitted(n_features_ > 0, "ToyColumnSelector");
        check_predict_input(X, n_features_, "ToyColumnSelector::transform");
        return X.leftCols(config_.keep);
    }
    [[nodiscard]] const Config& config() const { return config_; }

    int fit_calls = 0;
    int fit_transform_calls = 0;

    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const {
        ByteWriter w;
        w.write(config_.keep);
        w.write(n_features_);
        write_container(path, std::string("ToyColumnSelector<") + scalar_name<T>() + ">", 1, w.bytes(), overwrite);
    }
    static ToyColumnSelector load(const std::filesystem::path& path) {
        const auto c = read_container(path, std::string("ToyColumnSelector<") + scalar_name<T>() + ">");
        ByteReader r = c.reader();
        ToyColumnSelector out;
        r.read(out.config_.keep);
        r.read(out.n_features_);
        r.expect_end();
        return out;
    }

private:
    Config config_;
    Index n_features_ = 0;
};

/// scikit-learn's NearestCentroid (Euclidean): predicts the class with the nearest mean;
/// ties go to the first class. predict_proba is a softmax of minus the squared distances.
template <class T = float>
class ToyNearestCentroid {
public:
    ToyNearestCentroid& fit(ConstMatrixRef<T> X, ConstLabelsRef y) {
        check_fit_input(X, y, "ToyNearestCentroid::fit");
        classes_.fit(y, "ToyNearestCentroid::fit");
        const Labels encoded = classes_.encode(y, "ToyNearestCentroid::fit");
        centroids_ = Matrix<T>::Zero(classes_.size(), X.cols());
        Vector<T> counts = Vector<T>::Zero(classes_.size());
        for (Index i = 0; i < X.rows(); ++i) {
            centroids_.row(encoded[i]) += X.row(i);
            counts[encoded[i]] += T(1);
        }
        for (Index k = 0; k < classes_.size(); ++k) centroids_.row(k) /= counts[k];
        return *this;
    }
    Matrix<T> squared_distances(ConstMatrixRef<T> X) const {
        check_fitted(!classes_.empty(), "ToyNearestCentroid");
        check_predict_input(X, centroids_.cols(), "ToyNearestCentroid::predict");
        Matrix<T> d(X.rows(), centroids_.rows());
        for (Index i = 0; i < X.rows(); ++i)
            for (Index k = 0; k < centroids_.rows(); ++k) {
                T sum = 0;  // a plain loop: see predict_proba
                for (Index j = 0; j < X.cols(); ++j) sum += (X(i, j) - centroids_(k, j)) * (X(i, j) - centroids_(k, j));
                d(i, k) = sum;
            }
        return d;
    }
    Labels predict(ConstMatrixRef<T> X) const {
        const Matrix<T> d = squared_distances(X);
        Labels out(X.rows());
        for (Index i = 0; i < X.rows(); ++i) {
            Index best = 0;
            d.row(i).minCoeff(&best);
            out[i] = classes_.decode(best);
        }
        return out;
    }
    Matrix<T> predict_proba(ConstMatrixRef<T> X) const {
        // Plain loops: GCC 12 warns falsely inside Eigen's AVX-512 exp/max for doubles.
        Matrix<T> p = squared_distances(X);
        for (Index i = 0; i < p.rows(); ++i) {
            T nearest = p(i, 0);
            for (Index k = 1; k < p.cols(); ++k) nearest = std::min(nearest, p(i, k));
            T total = 0;
            for (Index k = 0; k < p.cols(); ++k) total += p(i, k) = std::exp(nearest - p(i, k));
            for (Index k = 0; k < p.cols(); ++k) p(i, k) /= total;
        }
        return p;
    }
    double score(ConstMatrixRef<T> X, ConstLabelsRef y) const {
        return accuracy_against(predict(X), y, classes_, "ToyNearestCentroid::score");
    }
    [[nodiscard]] const std::vector<int>& classes() const { return classes_.classes(); }
    [[nodiscard]] bool is_fitted() const { return !classes_.empty(); }
    [[nodiscard]] const Matrix<T>& centroids() const { return centroids_; }

    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const {
        check_fitted(is_fitted(), "ToyNearestCentroid");
        ByteWriter w;
        classes_.save(w);
        w.write_matrix(centroids_);
        write_container(path, std::string("ToyNearestCentroid<") + scalar_name<T>() + ">", 1, w.bytes(), overwrite);
    }
    static ToyNearestCentroid load(const std::filesystem::path& path) {
        const auto c = read_container(path, std::string("ToyNearestCentroid<") + scalar_name<T>() + ">");
        ByteReader r = c.reader();
        ToyNearestCentroid out;
        out.classes_.load(r);
        out.centroids_ = r.read_matrix<Matrix<T>>();
        r.expect_end();
        return out;
    }

private:
    ClassLabels classes_;
    Matrix<T> centroids_;
};

/// Brute-force k-nearest-neighbours with scikit-learn's voting: "uniform" counts votes,
/// "distance" weighs them by 1 / distance; ties go to the smallest class.
template <class T = double>
class ToyKNN {
public:
    struct Config {
        int n_neighbors = 5;
        std::string weights = "uniform";
    };
    ToyKNN() = default;
    explicit ToyKNN(Config config) : config_(std::move(config)) {}

    ToyKNN& fit(ConstMatrixRef<T> X, ConstLabelsRef y) {
        check_fit_input(X, y, "ToyKNN::fit");
        if (config_.n_neighbors < 1 || config_.n_neighbors > X.rows())
            detail::fail("ToyKNN::fit: n_neighbors must be in 1..", X.rows(), ", got ", config_.n_neighbors);
        if (config_.weights != "uniform" && config_.weights != "distance")
            detail::fail("ToyKNN::fit: weights must be 'uniform' or 'distance', got '", config_.weights, "'");
        classes_.fit(y, "ToyKNN::fit");
        X_ = X;
        y_ = classes_.encode(y, "ToyKNN::fit");
        return *this;
    }
    Labels predict(ConstMatrixRef<T> X) const {
        check_fitted(!classes_.empty(), "ToyKNN");
        check_predict_input(X, X_.cols(), "ToyKNN::predict");
        Labels out(X.rows());
        std::vector<Index> order(static_cast<std::size_t>(X_.rows()));
        std::vector<double> distance(order.size());
        for (Index i = 0; i < X.rows(); ++i) {
            for (Index j = 0; j < X_.rows(); ++j)
            {
                double sum = 0;  // a plain loop: GCC 12 warns falsely inside Eigen's AVX-512 reductions
                for (Index c = 0; c < X.cols(); ++c) sum += static_cast<double>((X(i, c) - X_(j, c)) * (X(i, c) - X_(j, c)));
                distance[static_cast<std::size_t>(j)] = std::sqrt(sum);
            }
            std::iota(order.begin(), order.end(), Index{0});
            std::stable_sort(order.begin(), order.end(), [&](Index a, Index b) {
                return distance[static_cast<std::size_t>(a)] < distance[static_cast<std::size_t>(b)];
            });
            std::vector<double> votes(static_cast<std::size_t>(classes_.size()), 0.0);
            for (int n = 0; n < config_.n_neighbors; ++n) {
                const auto j = static_cast<std::size_t>(order[static_cast<std::size_t>(n)]);
                votes[static_cast<std::size_t>(y_[static_cast<Index>(j)])] +=
                    config_.weights == "uniform" ? 1.0 : 1.0 / distance[j];
            }
            out[i] = classes_.decode(std::max_element(votes.begin(), votes.end()) - votes.begin());
        }
        return out;
    }
    double score(ConstMatrixRef<T> X, ConstLabelsRef y) const {
        return accuracy_against(predict(X), y, classes_, "ToyKNN::score");
    }
    [[nodiscard]] const Config& config() const { return config_; }

private:
    Config config_;
    ClassLabels classes_;
    Matrix<T> X_;
    Labels y_;
};

}  // namespace feral::test
