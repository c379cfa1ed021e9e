// feral/detail/kernels/distances.hpp — squared Euclidean distances between two sets
// of row vectors, the kernel behind KMeans, MiniBatchKMeans and KNeighborsClassifier.
//
// For rows a_i (of A) and b_j (of B):
//
//     |a_i - b_j|^2 = |a_i|^2 - 2 a_i . b_j + |b_j|^2
//
// so a whole block of distances is one matrix product A B^T plus two rank-one
// corrections. The product runs through Eigen's GEMM (vectorised, cache-blocked; with
// -march=native it uses AVX-512 and is close to a tuned BLAS on one core). Callers
// parallelise over row blocks themselves; this kernel is single-threaded.
//
// Rounding: the expansion cancels when a_i and b_j are close, so a distance that is
// mathematically 0 can come out slightly negative; results are clamped at 0. Callers
// that need exact small distances (KNN's returned distances) recompute them directly
// for the few pairs they keep (`squared_distance`).
//
// Conventions (XNNPACK style): raw pointers, sizes and row strides (in elements);
// no exceptions. Eigen's GEMM may allocate its packing workspace for large blocks.
// Each kernel has a scalar `*_reference` twin used by the tests.
#pragma once

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>

namespace feral::detail::kernels {

using KernelIndex = std::ptrdiff_t;

template <class T>
using RowMajorMap = Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                               Eigen::OuterStride<>>;
template <class T>
using MutableRowMajorMap = Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>, 0,
                                      Eigen::OuterStride<>>;

/// out[i] = |x_i|^2 for the `rows` rows of x (row stride `stride`), summed in T.
template <class T>
void squared_row_norms(const T* x, KernelIndex rows, KernelIndex cols, KernelIndex stride, T* out) {
    if (rows <= 0) return;
    const RowMajorMap<T> X(x, rows, cols, Eigen::OuterStride<>(stride));
    Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, 1>>(out, rows) = X.rowwise().squaredNorm();
}

template <class T>
void squared_row_norms_reference(const T* x, KernelIndex rows, KernelIndex cols, KernelIndex stride, T* out) {
    for (KernelIndex i = 0; i < rows; ++i) {
        T sum = 0;
        for (KernelIndex j = 0; j < cols; ++j) sum += x[i * stride + j] * x[i * stride + j];
        out[i] = sum;
    }
}

/// |a - b|^2 of two vectors of length n, computed directly (no cancellation).
template <class T>
T squared_distance(const T* a, const T* b, KernelIndex n) {
    using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
    return (Eigen::Map<const Vec>(a, n) - Eigen::Map<const Vec>(b, n)).squaredNorm();
}

/// out(i, j) = max(0, |a_i|^2 - 2 a_i . b_j + |b_j|^2) for i < na, j < nb.
///   a: na x dim, row stride lda;  b: nb x dim, row stride ldb;
///   a_norms[i] = |a_i|^2, b_norms[j] = |b_j|^2 (squared_row_norms);
///   out: na x nb, row stride ldo (must not alias a or b).
template <class T>
void squared_distances(const T* a, KernelIndex na, KernelIndex lda, const T* b, KernelIndex nb, KernelIndex ldb,
                       KernelIndex dim, const T* a_norms, const T* b_norms, T* out, KernelIndex ldo) {
    if (na <= 0 || nb <= 0) return;
    const RowMajorMap<T> A(a, na, dim, Eigen::OuterStride<>(lda));
    const RowMajorMap<T> B(b, nb, dim, Eigen::OuterStride<>(ldb));
    MutableRowMajorMap<T> D(out, na, nb, Eigen::OuterStride<>(ldo));
    D.noalias() = A * B.transpose();
    for (KernelIndex i = 0; i < na; ++i) {
        T* row = out + i * ldo;
        const T ai = a_norms[i];
        for (KernelIndex j = 0; j < nb; ++j) row[j] = std::max(T(0), ai - T(2) * row[j] + b_norms[j]);
    }
}

template <class T>
void squared_distances_reference(const T* a, KernelIndex na, KernelIndex lda, const T* b, KernelIndex nb,
                                 KernelIndex ldb, KernelIndex dim, T* out, KernelIndex ldo) {
    for (KernelIndex i = 0; i < na; ++i)
        for (KernelIndex j = 0; j < nb; ++j) {
            T sum = 0;
            for (KernelIndex k = 0; k < dim; ++k) {
                const T diff = a[i * lda + k] - b[j * ldb + k];
                sum += diff * diff;
            }
            out[i * ldo + j] = sum;
        }
}

/// For each row i of a (na rows), the index of the nearest row of b and its squared
/// distance, with ties going to the lower index (scikit-learn's argmin). `scratch`
/// holds na * nb values. Used for cluster assignment.
template <class T>
void nearest_rows(const T* a, KernelIndex na, KernelIndex lda, const T* b, KernelIndex nb, KernelIndex ldb,
                  KernelIndex dim, const T* a_norms, const T* b_norms, T* scratch, int* nearest, T* nearest_distance) {
    squared_distances(a, na, lda, b, nb, ldb, dim, a_norms, b_norms, scratch, nb);
    for (KernelIndex i = 0; i < na; ++i) {
        const T* row = scratch + i * nb;
        KernelIndex best = 0;
        for (KernelIndex j = 1; j < nb; ++j)
            if (row[j] < row[best]) best = j;
        nearest[i] = static_cast<int>(best);
        nearest_distance[i] = row[best];
    }
}

}  // namespace feral::detail::kernels
