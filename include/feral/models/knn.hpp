// feral/models/knn.hpp — k-nearest-neighbours classification by brute force
// (scikit-learn's KNeighborsClassifier with algorithm='brute', metric='euclidean').
//
// Template parameter T: the scalar type of X (float by default).
//
// Example:
//   feral::KNeighborsClassifier<> knn({.n_neighbors = 1});
//   knn.fit(X_train, y_train);                       // stores the training set
//   feral::Labels predicted = knn.predict(X_test);
//   auto [distances, indices] = knn.kneighbors(X_test, 3);
//
// How it works: the distances of a block of queries to a block of training rows are
// one matrix product, |q|^2 - 2 q.t + |t|^2 (detail/kernels/distances.hpp), and each
// query keeps its best candidates in a small max-heap while the training blocks
// stream past. Query blocks run in parallel (Config::n_threads); each thread owns its
// scratch block, so nothing is allocated per query. The expansion rounds (in float32
// its error is about 1e-7 (|q|^2 + |t|^2)), so the heap keeps k + 8 candidates, their
// distances are then recomputed directly as |q - t|^2 and the best k of those are
// returned: near ties are decided by exact distances, not by rounding noise.
//
// Ties, as scikit-learn's brute force: neighbours at equal distance are ordered by
// training index (lower first); a voting tie goes to the lowest class label (argmax).
// weights = distance: each neighbour votes 1/d; if a query coincides with training
// rows (d = 0), only those rows vote, with weight 1 each.
//
// Parameters (defaults = scikit-learn 1.2):
//   n_neighbors  5        neighbours that vote (1 <= n_neighbors <= training samples)
//   weights      uniform  uniform or distance
//   n_threads    0        threads over query blocks (0 = FERAL_NUM_THREADS or all cores)
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/serialize.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/core/validation.hpp"
#include "feral/detail/kernels/distances.hpp"
#include "feral/models/class_labels.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace feral {

enum class NeighborWeights : std::int32_t { uniform, distance };

template <class T = float>
class KNeighborsClassifier {
public:
    using scalar_type = T;

    struct Config {
        Index n_neighbors = 5;
        NeighborWeights weights = NeighborWeights::uniform;
        int n_threads = 0;
    };

    /// The result of kneighbors(): row i lists query i's neighbours, nearest first.
    struct Neighbors {
        Matrix<T> distances;                                                      ///< Euclidean (not squared)
        Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> indices;  ///< rows of the training set
    };

    KNeighborsClassifier() = default;
    explicit KNeighborsClassifier(Config config) : config_(std::move(config)) {}

    /// Stores the training set. Requires 1 <= n_neighbors <= X.rows() and at least two classes.
    KNeighborsClassifier& fit(ConstMatrixRef<T> X, ConstLabelsRef y) {
        constexpr const char* where = "KNeighborsClassifier::fit";
        check_params(where);
        check_fit_input(X, y, where);
        if (config_.n_neighbors > X.rows())
            detail::fail(where, ": n_neighbors = ", config_.n_neighbors, " but the training set has only ", X.rows(),
                         " samples");
        ClassLabels classes;
        classes.fit(y, where);
        classes_ = std::move(classes);
        dense_labels_ = classes_.encode(y, where);
        train_ = X;
        prepare();
        return *this;
    }

    /// The k nearest training rows of each query (k = 0 means Config::n_neighbors).
    [[nodiscard]] Neighbors kneighbors(ConstMatrixRef<T> X, Index k = 0) const {
        constexpr const char* where = "KNeighborsClassifier::kneighbors";
        check_fitted(is_fitted(), "KNeighborsClassifier");
        if (k == 0) k = config_.n_neighbors;
        if (k < 1 || k > train_.rows())
            detail::fail(where, ": k = ", k, " must be in 1..", train_.rows(), " (the number of training samples)");
        check_predict_input(X, train_.cols(), where);
        return search(X, k);
    }

    /// Class membership probabilities; columns follow classes().
    [[nodiscard]] Matrix<T> predict_proba(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "KNeighborsClassifier");
        check_predict_input(X, train_.cols(), "KNeighborsClassifier::predict_proba");
        const Matrix<double> total = votes(search(X, config_.n_neighbors));
        Matrix<T> proba(total.rows(), total.cols());
        for (Index i = 0; i < total.rows(); ++i) proba.row(i) = (total.row(i) / total.row(i).sum()).template cast<T>();
        return proba;
    }

    [[nodiscard]] Labels predict(ConstMatrixRef<T> X) const {
        check_fitted(is_fitted(), "KNeighborsClassifier");
        check_predict_input(X, train_.cols(), "KNeighborsClassifier::predict");
        return classes_.decode_argmax(votes(search(X, config_.n_neighbors)));  // ties: the lowest label
    }

    /// Mean accuracy in [0, 1].
    [[nodiscard]] double score(ConstMatrixRef<T> X, ConstLabelsRef y) const {
        return accuracy_against(predict(X), y, classes_, "KNeighborsClassifier::score");
    }

    [[nodiscard]] const std::vector<int>& classes() const { return classes_.classes(); }
    [[nodiscard]] bool is_fitted() const { return !classes_.empty(); }
    [[nodiscard]] const Config& config() const { return config_; }
    [[nodiscard]] Index n_features_in() const { return train_.cols(); }
    [[nodiscard]] Index n_samples_fit() const { return train_.rows(); }

    void save(const std::filesystem::path& path, Overwrite overwrite = Overwrite::no) const {
        check_fitted(is_fitted(), "KNeighborsClassifier");
        ByteWriter w;
        w.write<std::int64_t>(config_.n_neighbors);
        w.write(config_.weights);
        w.write<std::int32_t>(config_.n_threads);
        classes_.save(w);
        w.write_matrix(train_);
        w.write_matrix(dense_labels_);
        write_container(path, type_tag(), 1, w.bytes(), overwrite);
    }

    static KNeighborsClassifier load(const std::filesystem::path& path) {
        const auto c = read_container(path, type_tag());
        if (c.payload_version() != 1)
            detail::fail<format_error>(path.string(), ": KNeighborsClassifier payload version ", c.payload_version(),
                                       " is not supported");
        ByteReader r = c.reader();
        KNeighborsClassifier model;
        model.config_.n_neighbors = r.read<std::int64_t>();
        model.config_.weights = r.read<NeighborWeights>();
        model.config_.n_threads = r.read<std::int32_t>();
        model.classes_.load(r);
        model.train_ = r.read_matrix<Matrix<T>>();
        model.dense_labels_ = r.read_matrix<Labels>();
        r.expect_end();
        const auto k = model.classes_.size();
        bool ok = model.classes_.size() >= 2 &&
                  model.dense_labels_.size() == model.train_.rows() && model.config_.n_neighbors >= 1 &&
                  model.config_.n_neighbors <= model.train_.rows();
        for (Index i = 0; ok && i < model.dense_labels_.size(); ++i)
            ok = model.dense_labels_[i] >= 0 && model.dense_labels_[i] < k;
        if (!ok) detail::fail<format_error>(path.string(), ": inconsistent KNeighborsClassifier payload");
        model.prepare();
        return model;
    }

    static std::string type_tag() { return std::string("KNeighborsClassifier<") + scalar_name<T>() + ">"; }

private:
    // Block sizes: a 64 x 1024 distance tile (256 KiB in float) stays in L2.
    static constexpr Index kQueryBlock = 64;
    static constexpr Index kTrainBlock = 1024;
    // Extra candidates kept beyond k, re-ranked by exact distance.
    static constexpr Index kSlack = 8;

    void check_params(const char* where) const {
        if (config_.n_neighbors < 1) detail::fail(where, ": n_neighbors = ", config_.n_neighbors, " must be >= 1");
        if (config_.weights != NeighborWeights::uniform && config_.weights != NeighborWeights::distance)
            detail::fail(where, ": unknown weights mode ", static_cast<int>(config_.weights));
        if (config_.n_threads < 0) detail::fail(where, ": n_threads = ", config_.n_threads, " must be >= 0");
    }

    void prepare() {
        train_norms_.resize(train_.rows());
        detail::kernels::squared_row_norms(train_.data(), train_.rows(), train_.cols(), train_.cols(), train_norms_.data());
    }

    /// A candidate neighbour; the max-heap's top is the worst kept one. Candidates
    /// compare by (distance, index), which gives scikit-learn's stable tie order.
    struct Candidate {
        T distance;
        Index index;
        bool operator<(const Candidate& other) const {
            return distance < other.distance || (distance == other.distance && index < other.index);
        }
    };

    Neighbors search(ConstMatrixRef<T> X, Index k) const {
        const Index n = X.rows(), dim = train_.cols(), n_train = train_.rows();
        Neighbors result;
        result.distances.resize(n, k);
        result.indices.resize(n, k);
        const Index n_blocks = (n + kQueryBlock - 1) / kQueryBlock;
        const Index kept = std::min(n_train, k + kSlack);
        parallel_for(0, n_blocks, config_.n_threads, [&](std::int64_t first_block, std::int64_t last_block) {
            // Per-thread workspace, allocated once per chunk.
            Matrix<T> queries(kQueryBlock, dim);
            Vector<T> query_norms(kQueryBlock);
            Matrix<T> tile(kQueryBlock, kTrainBlock);
            std::vector<Candidate> heaps(static_cast<std::size_t>(kQueryBlock * kept));
            std::vector<Index> heap_sizes(kQueryBlock);
            for (Index block = first_block; block < last_block; ++block) {
                const Index q0 = block * kQueryBlock;
                const Index nq = std::min(kQueryBlock, n - q0);
                queries.topRows(nq) = X.middleRows(q0, nq);
                detail::kernels::squared_row_norms(queries.data(), nq, dim, dim, query_norms.data());
                std::fill(heap_sizes.begin(), heap_sizes.end(), Index{0});
                for (Index t0 = 0; t0 < n_train; t0 += kTrainBlock) {
                    const Index nt = std::min(kTrainBlock, n_train - t0);
                    detail::kernels::squared_distances(queries.data(), nq, dim, train_.data() + t0 * dim, nt, dim, dim,
                                                       query_norms.data(), train_norms_.data() + t0, tile.data(),
                                                       kTrainBlock);
                    for (Index i = 0; i < nq; ++i) {
                        Candidate* heap = heaps.data() + i * kept;
                        Index& size = heap_sizes[static_cast<std::size_t>(i)];
                        const T* row = tile.data() + i * kTrainBlock;
                        for (Index j = 0; j < nt; ++j) {
                            if (size < kept) {
                                heap[size++] = {row[j], t0 + j};
                                std::push_heap(heap, heap + size);
                            } else if (row[j] < heap[0].distance) {
                                // Training indices only grow, so an equal distance never displaces the kept one.
                                std::pop_heap(heap, heap + kept);
                                heap[kept - 1] = {row[j], t0 + j};
                                std::push_heap(heap, heap + kept);
                            }
                        }
                    }
                }
                for (Index i = 0; i < nq; ++i) {
                    Candidate* heap = heaps.data() + i * kept;
                    // Exact distances for the candidates, then the final order.
                    for (Index m = 0; m < kept; ++m)
                        heap[m].distance = detail::kernels::squared_distance(queries.data() + i * dim,
                                                                             train_.data() + heap[m].index * dim, dim);
                    std::sort(heap, heap + kept);
                    for (Index m = 0; m < k; ++m) {
                        result.distances(q0 + i, m) = std::sqrt(heap[m].distance);
                        result.indices(q0 + i, m) = heap[m].index;
                    }
                }
            }
        });
        return result;
    }

    /// Per query and class, the summed votes of the neighbours (1 each, or 1/d).
    Matrix<double> votes(const Neighbors& neighbors) const {
        const Index n = neighbors.indices.rows(), k = neighbors.indices.cols();
        Matrix<double> total = Matrix<double>::Zero(n, classes_.size());
        for (Index i = 0; i < n; ++i) {
            bool exact_match = false;
            if (config_.weights == NeighborWeights::distance)
                for (Index m = 0; m < k; ++m) exact_match = exact_match || neighbors.distances(i, m) == T(0);
            for (Index m = 0; m < k; ++m) {
                double weight = 1.0;
                if (config_.weights == NeighborWeights::distance) {
                    const double d = static_cast<double>(neighbors.distances(i, m));
                    weight = exact_match ? (d == 0.0 ? 1.0 : 0.0) : 1.0 / d;
                }
                total(i, dense_labels_[neighbors.indices(i, m)]) += weight;
            }
        }
        return total;
    }

    Config config_;
    ClassLabels classes_;
    Labels dense_labels_;
    Matrix<T> train_;
    Vector<T> train_norms_;
};

}  // namespace feral
