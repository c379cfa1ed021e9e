// The packed GEMM against its scalar twin over awkward sizes, operand layouts and epilogues.
#include "feral/core/random.hpp"
#include "feral/detail/kernels/gemm.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <utility>
#include <vector>

using feral::detail::kernels::gemm;
using feral::detail::kernels::gemm_tile_vectors;
using feral::detail::kernels::gemm_with_tile;
using feral::detail::kernels::gemm_index;
using feral::detail::kernels::gemm_parallel;
using feral::detail::kernels::gemm_reference;
using feral::detail::kernels::GemmBlocking;
using feral::detail::kernels::GemmEpilogue;
using feral::detail::kernels::GemmOperand;

namespace {

template <class T>
std::vector<T> random_values(std::size_t n, feral::Random& rng) {
    std::vector<T> v(n);
    for (auto& x : v) x = static_cast<T>(rng.uniform(-1.0, 1.0));
    return v;
}

/// Runs gemm and gemm_reference on the same inputs and compares every element of C,
/// including the padding columns of C beyond N (which must stay untouched). `vectors`:
/// 0 lets gemm pick its tile, 2 or 3 forces that tile (single-threaded).
template <class T>
void check_case(gemm_index M, gemm_index N, gemm_index K, bool trans_a, bool trans_b, bool accumulate, bool row_bias,
                bool col_bias, bool relu, int threads = 1, int vectors = 0) {
    feral::Random rng(static_cast<std::uint64_t>(M * 1000003 + N * 1009 + K));
    const gemm_index pad = 3;  // leading dimensions larger than the logical width: strided operands
    const gemm_index lda = (trans_a ? M : K) + pad, ldb = (trans_b ? K : N) + pad, ldc = N + pad;
    const auto a = random_values<T>(static_cast<std::size_t>((trans_a ? K : M) * lda + 1), rng);
    const auto b = random_values<T>(static_cast<std::size_t>((trans_b ? N : K) * ldb + 1), rng);
    const auto rb = random_values<T>(static_cast<std::size_t>(M + 1), rng);
    const auto cb = random_values<T>(static_cast<std::size_t>(N + 1), rng);
    auto c_fast = random_values<T>(static_cast<std::size_t>(M * ldc + 1), rng);
    auto c_ref = c_fast;
    const auto A = trans_a ? GemmOperand<T>::transposed(a.data(), lda) : GemmOperand<T>::row_major(a.data(), lda);
    const auto B = trans_b ? GemmOperand<T>::transposed(b.data(), ldb) : GemmOperand<T>::row_major(b.data(), ldb);
    GemmEpilogue<T> e;
    e.row_bias = row_bias ? rb.data() : nullptr;
    e.col_bias = col_bias ? cb.data() : nullptr;
    e.relu = relu;
    if (vectors == 2)
        gemm_with_tile<T, xsimd::default_arch, 2>(M, N, K, A, B, c_fast.data(), ldc, accumulate, e);
    else if (vectors == 3)
        gemm_with_tile<T, xsimd::default_arch, 3>(M, N, K, A, B, c_fast.data(), ldc, accumulate, e);
    else if (threads == 1)
        gemm<T>(M, N, K, A, B, c_fast.data(), ldc, accumulate, e);
    else
        gemm_parallel<T>(M, N, K, A, B, c_fast.data(), ldc, accumulate, e, threads);
    gemm_reference<T>(M, N, K, A, B, c_ref.data(), ldc, accumulate, e);
    // Each element is a sum of K products of values in [-1, 1]: rounding differs only by
    // summation order, bounded by about K * eps * K.
    const double tol = 4.0 * static_cast<double>(std::numeric_limits<T>::epsilon()) * static_cast<double>(K + 4);
    for (gemm_index i = 0; i < M; ++i) {
        for (gemm_index j = 0; j < ldc; ++j) {
            const auto idx = static_cast<std::size_t>(i * ldc + j);
            if (j >= N) {
                REQUIRE(c_fast[idx] == c_ref[idx]);  // untouched padding
                continue;
            }
            INFO("M=" << M << " N=" << N << " K=" << K << " transA=" << trans_a << " transB=" << trans_b
                      << " tile vectors=" << vectors << " i=" << i << " j=" << j);
            REQUIRE(std::abs(static_cast<double>(c_fast[idx]) - static_cast<double>(c_ref[idx])) <=
                    tol * std::max(1.0, std::abs(static_cast<double>(c_ref[idx]))));
        }
    }
}

template <class T, int Vectors>
std::vector<gemm_index> awkward_sizes(bool rows) {
    using Blocking = GemmBlocking<T, xsimd::default_arch, Vectors>;
    const gemm_index tile = rows ? Blocking::MR : Blocking::NR;
    const gemm_index lanes = Blocking::lanes;
    return {1, 2, lanes - 1, lanes, lanes + 1, tile - 1, tile, tile + 1, 2 * tile + 3};
}


template <class T, int Vectors>
void check_awkward_sizes() {
    const auto ms = awkward_sizes<T, Vectors>(true);
    const auto ns = awkward_sizes<T, Vectors>(false);
    const std::vector<gemm_index> ks = {1, 2, 7, 17};
    for (int layout = 0; layout < 4; ++layout)
        for (auto m : ms)
            for (auto n : ns)
                for (auto k : ks) check_case<T>(m, n, k, layout & 1, layout & 2, false, false, false, false, 1, Vectors);
}

template <class T, int Vectors>
void check_cache_blocks() {
    using Blocking = GemmBlocking<T, xsimd::default_arch, Vectors>;
    const gemm_index K = Blocking::KC * 2 + 5;  // three equal K blocks
    const gemm_index M = Blocking::MC + Blocking::MR + 1;
    const gemm_index N = Blocking::NC + 7;
    check_case<T>(M, 9, K, false, false, false, false, false, false, 1, Vectors);
    check_case<T>(5, N, 40, false, true, true, true, false, true, 1, Vectors);
    check_case<T>(M, 33, K, true, false, true, false, true, true, 1, Vectors);
}

}  // namespace

TEMPLATE_TEST_CASE("gemm matches the scalar reference for awkward sizes and every operand layout, with either tile",
                   "[nn][gemm]", float, double) {
    check_awkward_sizes<TestType, 2>();
    check_awkward_sizes<TestType, 3>();
}

TEMPLATE_TEST_CASE("gemm crosses the K, M and N cache blocks correctly, with either tile", "[nn][gemm]", float,
                   double) {
    check_cache_blocks<TestType, 2>();
    check_cache_blocks<TestType, 3>();
}

TEMPLATE_TEST_CASE("gemm's two tiles give bit-identical products, and gemm picks the one that pads least",
                   "[nn][gemm]", float, double) {
    using T = TestType;
    using Two = GemmBlocking<T, xsimd::default_arch, 2>;
    using Three = GemmBlocking<T, xsimd::default_arch, 3>;
    // Partial row and column tiles in both shapes; K in several blocks of KC.
    const gemm_index M = 43, N = 301, K = 2 * Two::KC + 13;
    feral::Random rng(11);
    const auto a = random_values<T>(M * K, rng);
    const auto b = random_values<T>(K * N, rng);
    const auto row_bias = random_values<T>(M, rng);
    const auto col_bias = random_values<T>(N, rng);
    const auto c0 = random_values<T>(M * N, rng);  // accumulated into
    GemmEpilogue<T> e;
    e.row_bias = row_bias.data();
    e.col_bias = col_bias.data();
    e.relu = true;
    std::vector<T> two = c0, three = c0;
    const auto A = GemmOperand<T>::row_major(a.data(), K);
    const auto B = GemmOperand<T>::transposed(b.data(), K);  // as Conv2D's kernel gradient reads its columns
    gemm_with_tile<T, xsimd::default_arch, 2>(M, N, K, A, B, two.data(), N, true, e);
    gemm_with_tile<T, xsimd::default_arch, 3>(M, N, K, A, B, three.data(), N, true, e);
    REQUIRE(two == three);

    const auto padded = [](gemm_index m, gemm_index n, gemm_index mr, gemm_index nr) {
        return (m + mr - 1) / mr * mr * ((n + nr - 1) / nr * nr);
    };
    for (auto [m, n] : {std::pair<gemm_index, gemm_index>{64, 2304}, {256, 64}, {128, 576}, {43, 301}}) {
        INFO("M=" << m << " N=" << n);
        const int expected =
            Two::many_registers && padded(m, n, Three::MR, Three::NR) <= padded(m, n, Two::MR, Two::NR) ? 3 : 2;
        CHECK(gemm_tile_vectors<T>(m, n) == expected);
    }
    if (Two::many_registers && Two::NR == 32) {
        CHECK(gemm_tile_vectors<T>(64, 2304) == 3);  // a 32->64 convolution on 48x48 faces
        CHECK(gemm_tile_vectors<T>(256, 64) == 2);   // Dense(64), batch 256
    }
}

TEST_CASE("gemm_parallel with the three-vector tile gives bit-identical results for every thread count",
          "[nn][gemm]") {
    const gemm_index M = 64, N = 480, K = 150;  // 9.2 MFLOP: above the serial threshold
    feral::Random rng(7);
    const auto a = random_values<float>(M * K, rng);
    const auto b = random_values<float>(K * N, rng);
    std::vector<float> c1(M * N), c2(M * N), c3(M * N);
    const auto A = GemmOperand<float>::row_major(a.data(), K);
    const auto B = GemmOperand<float>::row_major(b.data(), N);
    gemm_parallel<float>(M, N, K, A, B, c1.data(), N, false, {}, 1);
    gemm_parallel<float>(M, N, K, A, B, c2.data(), N, false, {}, 2);
    gemm_parallel<float>(M, N, K, A, B, c3.data(), N, false, {}, 3);
    REQUIRE(c1 == c2);
    REQUIRE(c1 == c3);
    check_case<float>(M, N, K, false, false, true, true, true, true, 2);
}

TEMPLATE_TEST_CASE("gemm applies accumulation, row and column bias and ReLU in the epilogue", "[nn][gemm]", float,
                   double) {
    for (int flags = 0; flags < 16; ++flags)
        check_case<TestType>(13, 37, 29, flags & 1, false, flags & 2, flags & 4, flags & 8, (flags & 3) != 0);
}

TEST_CASE("gemm with an empty dimension leaves C alone or applies only the epilogue", "[nn][gemm]") {
    check_case<float>(0, 5, 3, false, false, false, false, false, false);
    check_case<float>(4, 0, 3, false, false, false, false, false, false);
    check_case<float>(4, 5, 0, false, false, false, true, true, true);
    check_case<float>(4, 5, 0, false, false, true, false, false, false);
}

TEST_CASE("gemm_parallel gives bit-identical results for every thread count", "[nn][gemm]") {
    const gemm_index M = 70, N = 300, K = 150;
    feral::Random rng(5);
    const auto a = random_values<float>(M * K, rng);
    const auto b = random_values<float>(K * N, rng);
    const auto bias = random_values<float>(N, rng);
    GemmEpilogue<float> e;
    e.col_bias = bias.data();
    e.relu = true;
    std::vector<float> c1(M * N), c2(M * N), c3(M * N), c_tall(N * M), c_tall3(N * M);
    const auto A = GemmOperand<float>::row_major(a.data(), K);
    const auto B = GemmOperand<float>::row_major(b.data(), N);
    gemm_parallel<float>(M, N, K, A, B, c1.data(), N, false, e, 1);
    gemm_parallel<float>(M, N, K, A, B, c2.data(), N, false, e, 2);
    gemm_parallel<float>(M, N, K, A, B, c3.data(), N, false, e, 3);
    REQUIRE(c1 == c2);
    REQUIRE(c1 == c3);
    // A tall product is split by rows instead of columns.
    gemm_parallel<float>(N, M, K, GemmOperand<float>::transposed(b.data(), N), GemmOperand<float>::transposed(a.data(), K),
                         c_tall.data(), M, false, {}, 1);
    gemm_parallel<float>(N, M, K, GemmOperand<float>::transposed(b.data(), N), GemmOperand<float>::transposed(a.data(), K),
                         c_tall3.data(), M, false, {}, 3);
    REQUIRE(c_tall == c_tall3);
    check_case<float>(M, N, K, true, false, true, true, false, true, 2);
    check_case<float>(300, 20, K, false, true, false, false, true, false, 3);
}
