// feral/detail/column_moments.hpp — per-column means and sums of squared deviations, in
// double, parallel and independent of the thread count. Shared by StandardScaler,
// GaussianNB, PCA, GlobalStandardizer and feature_mean_std.
//
// Columns, not rows, are the unit of the arithmetic: each column keeps its own running
// sum, so the additions of one row are independent lanes the compiler vectorises. (A
// running sum along a row is one chain of dependent additions, which the compiler may
// not reorder without -ffast-math: one addition per four cycles.)
#pragma once

#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace feral::detail {

/// Per-group column statistics of X: for each group g (rows with group[i] == g, or
/// all rows as group 0 when group is null) and column j, the count, the mean and the
/// centred sum of squares sum_i (x_ij - mean_gj)^2.
struct ColumnMoments {
    Vector<double> count;        ///< rows per group
    Matrix<double> mean;         ///< groups x columns
    Matrix<double> sum_squares;  ///< groups x columns
};

/// Two passes in double (means, then squared deviations with the correction term of
/// Chan, Golub & LeVeque, as scikit-learn's _incremental_mean_and_var), over contiguous
/// rows. The rows are cut into at most 64 parts whose boundaries depend only on the
/// number of rows; parts run in parallel and their partial sums are added in part
/// order, so the result does not depend on the thread count. group values must be in
/// 0..groups-1 and every group non-empty.
template <class T>
ColumnMoments column_moments(const ConstMatrixRef<T>& X, const int* group, Index groups, int threads) {
    const Index n = X.rows(), d = X.cols();
    const Index parts = std::min<Index>(64, n);
    auto part_begin = [&](Index p) { return n * p / parts; };
    auto group_of = [&](Index i) { return group == nullptr ? Index{0} : static_cast<Index>(group[i]); };
    std::vector<Matrix<double>> partial(static_cast<std::size_t>(parts)), residual(static_cast<std::size_t>(parts));

    ColumnMoments m;
    m.count = Vector<double>::Zero(groups);
    for (Index i = 0; i < n; ++i) m.count[group_of(i)] += 1;

    parallel_for_each_index(0, parts, threads, [&](std::int64_t p) {
        Matrix<double> sum = Matrix<double>::Zero(groups, d);
        for (Index i = part_begin(p); i < part_begin(p + 1); ++i) sum.row(group_of(i)) += X.row(i).template cast<double>();
        partial[static_cast<std::size_t>(p)] = std::move(sum);
    });
    m.mean = Matrix<double>::Zero(groups, d);
    for (const auto& sum : partial) m.mean += sum;
    for (Index g = 0; g < groups; ++g) m.mean.row(g) /= m.count[g];

    parallel_for_each_index(0, parts, threads, [&](std::int64_t p) {
        Matrix<double> squares = Matrix<double>::Zero(groups, d), deviations = Matrix<double>::Zero(groups, d);
        RowVector<double> deviation(d);
        for (Index i = part_begin(p); i < part_begin(p + 1); ++i) {
            const Index g = group_of(i);
            deviation = X.row(i).template cast<double>() - m.mean.row(g);
            squares.row(g) += deviation.cwiseAbs2();
            deviations.row(g) += deviation;
        }
        partial[static_cast<std::size_t>(p)] = std::move(squares);
        residual[static_cast<std::size_t>(p)] = std::move(deviations);
    });
    m.sum_squares = Matrix<double>::Zero(groups, d);
    Matrix<double> total_residual = Matrix<double>::Zero(groups, d);
    for (Index p = 0; p < parts; ++p) {
        m.sum_squares += partial[static_cast<std::size_t>(p)];
        total_residual += residual[static_cast<std::size_t>(p)];
    }
    for (Index g = 0; g < groups; ++g)
        m.sum_squares.row(g) -= total_residual.row(g).cwiseAbs2() / m.count[g];
    m.sum_squares = m.sum_squares.cwiseMax(0.0);
    return m;
}

}  // namespace feral::detail
