// GEMM throughput: feral's packed xsimd GEMM (detail/kernels/gemm.hpp) against Eigen's
// matrix product, same shapes, same run, float. Counter "FLOPS" = 2*M*N*K per second.
//
//   build/<dir>/benchmarks/bench_gemm --benchmark_counters_tabular=true
//
// Shapes: squares, and the products a 48x48 FER CNN runs (conv as one GEMM per image:
// filters x pixels x C*k*k, here with the column matrix written out, where Conv2D packs it
// straight from the image; Dense: batch x units x features).
//
// BM_fma_peak is the roofline these figures are read against: one core issuing nothing but
// independent vector FMAs (24 accumulators with 32 vector registers, 12 with 16: more
// chains than FMA latency x ports), about the most a float kernel can reach on one core.
// GCC 12 reports -Wmaybe-uninitialized false positives inside its own AVX-512 intrinsic
// headers (the `__Y = __Y` idiom of _mm512_undefined_*) when Eigen's product is inlined.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

#include "feral/core/random.hpp"
#include "feral/core/types.hpp"
#include "feral/detail/kernels/gemm.hpp"

#include <Eigen/Core>
#include <benchmark/benchmark.h>

#include <xsimd/xsimd.hpp>

#include <algorithm>
#include <vector>

namespace {

using feral::detail::kernels::GemmOperand;

struct Operands {
    feral::Matrix<float> a, b, c;
    Operands(long m, long n, long k) : a(m, k), b(k, n), c(m, n) {
        feral::Random rng(1);
        for (long i = 0; i < a.size(); ++i) a.data()[i] = static_cast<float>(rng.uniform(-1, 1));
        for (long i = 0; i < b.size(); ++i) b.data()[i] = static_cast<float>(rng.uniform(-1, 1));
        c.setZero();
    }
};

void set_flops(benchmark::State& state, long m, long n, long k) {
    state.counters["FLOPS"] = benchmark::Counter(2.0 * static_cast<double>(m) * static_cast<double>(n) * static_cast<double>(k),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

void BM_feral_gemm(benchmark::State& state) {
    const long m = state.range(0), n = state.range(1), k = state.range(2);
    const int threads = static_cast<int>(state.range(3));
    Operands o(m, n, k);
    for (auto _ : state) {
        feral::detail::kernels::gemm_parallel<float>(m, n, k, GemmOperand<float>::row_major(o.a.data(), k),
                                                     GemmOperand<float>::row_major(o.b.data(), n), o.c.data(), n, false,
                                                     {}, threads);
        benchmark::DoNotOptimize(o.c.data());
        benchmark::ClobberMemory();
    }
    set_flops(state, m, n, k);
}

void BM_eigen_gemm(benchmark::State& state) {
    const long m = state.range(0), n = state.range(1), k = state.range(2);
    Eigen::setNbThreads(static_cast<int>(state.range(3)));  // benchmark only: the library never sets it
    Operands o(m, n, k);
    for (auto _ : state) {
        o.c.noalias() = o.a * o.b;
        benchmark::DoNotOptimize(o.c.data());
        benchmark::ClobberMemory();
    }
    set_flops(state, m, n, k);
    Eigen::setNbThreads(1);
}

void BM_fma_peak(benchmark::State& state) {
    using batch = xsimd::batch<float>;
    constexpr int kChains = batch::size * sizeof(float) >= 64 ? 24 : 12;  // leave registers for a and b
    constexpr long kSteps = 1 << 16;
    batch acc[kChains];
    for (int i = 0; i < kChains; ++i) acc[i] = batch(0.001f * static_cast<float>(i));
    const batch a(1.0000001f), b(0.9999999f);
    for (auto _ : state) {
        for (long step = 0; step < kSteps; ++step) {
#pragma GCC unroll 24
            for (int i = 0; i < kChains; ++i) acc[i] = xsimd::fma(acc[i], a, b);
        }
        for (int i = 0; i < kChains; ++i) benchmark::DoNotOptimize(acc[i]);
    }
    state.counters["FLOPS"] = benchmark::Counter(2.0 * kChains * kSteps * static_cast<double>(batch::size),
                                                 benchmark::Counter::kIsIterationInvariantRate);
}

/// With --benchmark_repetitions=R, also report the fastest repetition ("_min"): on a
/// shared machine the minimum is the least disturbed measurement.
double fastest(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

void shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"M", "N", "K", "threads"});
    for (long threads : {1, 2}) {
        for (long s : {128, 256, 512, 1024}) b->Args({s, s, s, threads});
        b->Args({32, 2304, 9, threads});     // conv 1->32, 3x3, on 48x48
        b->Args({64, 2304, 288, threads});   // conv 32->64, 3x3, on 48x48
        b->Args({128, 576, 576, threads});   // conv 64->128, 3x3, on 24x24
        b->Args({64, 128, 4608, threads});   // Dense 4608 -> 128, batch 64
    }
}

}  // namespace

BENCHMARK(BM_fma_peak)->UseRealTime()->ComputeStatistics("min", fastest);
BENCHMARK(BM_feral_gemm)->Apply(shapes)->UseRealTime()->ComputeStatistics("min", fastest);
BENCHMARK(BM_eigen_gemm)->Apply(shapes)->UseRealTime()->ComputeStatistics("min", fastest);
BENCHMARK_MAIN();
