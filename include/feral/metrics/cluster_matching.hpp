// feral/metrics/cluster_matching.hpp — accuracy of a clustering used as a classifier.
//
// k-means does not know which cluster is "happy". best_cluster_matching_accuracy
// pairs clusters with classes one to one so that the number of samples whose cluster
// is paired with their true class is as large as possible, and returns that number
// divided by the number of samples. The pairing is a linear assignment problem on the
// contingency table (clusters x classes), solved exactly by the Hungarian algorithm
// (linear_sum_assignment, the same problem as scipy.optimize.linear_sum_assignment).
// With more clusters than classes the extra clusters match no class (their samples
// count as errors); with fewer, some classes go unmatched.
//
//   auto match = feral::best_cluster_matching(y_true, kmeans.predict(X));
//   match.accuracy;                 // in [0, 1]
//   match.cluster_to_class.at(3);   // the class cluster 3 stands for (-1 if none)
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"
#include "feral/metrics/accuracy.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>
#include <vector>

namespace feral {

/// A solution of the linear assignment problem: row rows[i] is assigned column cols[i].
/// rows is increasing; min(n_rows, n_cols) pairs.
struct Assignment {
    std::vector<Index> rows;
    std::vector<Index> cols;
    double total = 0;  ///< sum of cost(rows[i], cols[i])
};

/// Solves min (or max) sum_i cost(rows[i], cols[i]) over one-to-one pairings of rows
/// and columns of a rectangular cost matrix, each row or column used at most once and
/// min(rows, cols) pairs made. O(r^2 c) for r <= c: the shortest-augmenting-path form
/// of the Hungarian algorithm with row and column potentials (Jonker–Volgenant style).
/// Throws invalid_argument for non-finite costs.
inline Assignment linear_sum_assignment(const Eigen::MatrixXd& cost, bool maximize = false) {
    constexpr const char* where = "linear_sum_assignment";
    if (!cost.allFinite()) detail::fail(where, ": the cost matrix contains NaN or infinite values");
    Assignment result;
    if (cost.rows() == 0 || cost.cols() == 0) return result;
    // Work on an r x c minimisation with r <= c (transpose if needed).
    const bool transposed = cost.rows() > cost.cols();
    Eigen::MatrixXd a = transposed ? Eigen::MatrixXd(cost.transpose()) : cost;
    if (maximize) a = -a;
    const Index r = a.rows(), c = a.cols();
    const double inf = std::numeric_limits<double>::infinity();
    // 1-based arrays; column 0 is a virtual column holding the row being inserted.
    std::vector<double> u(static_cast<std::size_t>(r + 1), 0.0), v(static_cast<std::size_t>(c + 1), 0.0);
    std::vector<Index> row_of_col(static_cast<std::size_t>(c + 1), 0), way(static_cast<std::size_t>(c + 1), 0);
    std::vector<double> min_slack(static_cast<std::size_t>(c + 1));
    std::vector<char> used(static_cast<std::size_t>(c + 1));
    for (Index i = 1; i <= r; ++i) {
        // Insert row i: grow a tree of tight edges from the virtual column 0 until a free
        // column is reached (Dijkstra on reduced costs), then flip the path.
        row_of_col[0] = i;
        Index col0 = 0;
        std::fill(min_slack.begin(), min_slack.end(), inf);
        std::fill(used.begin(), used.end(), 0);
        do {
            used[static_cast<std::size_t>(col0)] = 1;
            const Index row = row_of_col[static_cast<std::size_t>(col0)];
            double delta = inf;
            Index next = 0;
            for (Index j = 1; j <= c; ++j) {
                const auto uj = static_cast<std::size_t>(j);
                if (used[uj]) continue;
                const double slack = a(row - 1, j - 1) - u[static_cast<std::size_t>(row)] - v[uj];
                if (slack < min_slack[uj]) {
                    min_slack[uj] = slack;
                    way[uj] = col0;
                }
                if (min_slack[uj] < delta) {
                    delta = min_slack[uj];
                    next = j;
                }
            }
            for (Index j = 0; j <= c; ++j) {
                const auto uj = static_cast<std::size_t>(j);
                if (used[uj]) {
                    u[static_cast<std::size_t>(row_of_col[uj])] += delta;
                    v[uj] -= delta;
                } else {
                    min_slack[uj] -= delta;
                }
            }
            col0 = next;
        } while (row_of_col[static_cast<std::size_t>(col0)] != 0);
        do {  // augment along the alternating path back to the virtual column
            const Index previous = way[static_cast<std::size_t>(col0)];
            row_of_col[static_cast<std::size_t>(col0)] = row_of_col[static_cast<std::size_t>(previous)];
            col0 = previous;
        } while (col0 != 0);
    }
    std::vector<std::pair<Index, Index>> pairs;
    for (Index j = 1; j <= c; ++j)
        if (row_of_col[static_cast<std::size_t>(j)] != 0) {
            const Index row = row_of_col[static_cast<std::size_t>(j)] - 1;
            pairs.emplace_back(transposed ? j - 1 : row, transposed ? row : j - 1);
        }
    std::sort(pairs.begin(), pairs.end());
    for (const auto& [row, col] : pairs) {
        result.rows.push_back(row);
        result.cols.push_back(col);
        result.total += cost(row, col);
    }
    return result;
}

/// The best one-to-one matching of clusters to classes and the accuracy it gives.
struct ClusterMatching {
    double accuracy = 0;                 ///< matched samples / all samples, in [0, 1]
    Index matched = 0;                   ///< samples whose cluster is paired with their class
    std::map<int, int> cluster_to_class; ///< every cluster id seen; -1 where no class is paired
};

/// Pairs the cluster ids in `clusters` with the class labels in `y_true` one to one,
/// maximising the samples whose cluster is paired with their own class. Any numbers
/// of clusters and classes. Throws invalid_argument for mismatched or empty input.
inline ClusterMatching best_cluster_matching(const ConstLabelsRef& y_true, const ConstLabelsRef& clusters) {
    detail::check_label_pair(y_true, clusters, "best_cluster_matching");
    auto distinct = [](const ConstLabelsRef& v) {
        std::vector<int> values(v.data(), v.data() + v.size());
        std::sort(values.begin(), values.end());
        values.erase(std::unique(values.begin(), values.end()), values.end());
        return values;
    };
    const std::vector<int> cluster_ids = distinct(clusters), classes = distinct(y_true);
    auto index_in = [](const std::vector<int>& values, int x) {
        return static_cast<Index>(std::lower_bound(values.begin(), values.end(), x) - values.begin());
    };
    // Contingency table: samples of cluster a with class b.
    Eigen::MatrixXd table = Eigen::MatrixXd::Zero(static_cast<Index>(cluster_ids.size()), static_cast<Index>(classes.size()));
    for (Index i = 0; i < y_true.size(); ++i) table(index_in(cluster_ids, clusters[i]), index_in(classes, y_true[i])) += 1;
    const Assignment best = linear_sum_assignment(table, /*maximize=*/true);

    ClusterMatching out;
    for (int id : cluster_ids) out.cluster_to_class[id] = -1;
    for (std::size_t p = 0; p < best.rows.size(); ++p)
        out.cluster_to_class[cluster_ids[static_cast<std::size_t>(best.rows[p])]] = classes[static_cast<std::size_t>(best.cols[p])];
    out.matched = static_cast<Index>(std::llround(best.total));
    out.accuracy = static_cast<double>(out.matched) / static_cast<double>(y_true.size());
    return out;
}

/// best_cluster_matching(y_true, clusters).accuracy.
inline double best_cluster_matching_accuracy(const ConstLabelsRef& y_true, const ConstLabelsRef& clusters) {
    return best_cluster_matching(y_true, clusters).accuracy;
}

}  // namespace feral
