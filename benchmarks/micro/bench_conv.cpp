// Conv2D forward + backward (kernel, bias and input gradients) on the convolutions of a
// 48x48 FER CNN (layers 0-3), two 5x5 convolutions of study 3's random search (layers
// 4-5) and the two later convolutions of the `mid` network (layers 6-7), batch 64, float. Counter "FLOPS" = 3 x the forward's 2*N*F*C*k*k*OH*OW
// (forward, kernel gradient, input gradient) per second. The peer is
// benchmarks/peers/bench_conv_torch.py (same shapes, same counters).
//
//   build/<dir>/benchmarks/bench_conv --benchmark_counters_tabular=true
#include "feral/core/random.hpp"
#include "feral/nn/conv2d.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <vector>

namespace {

struct ConvShape {
    feral::Index channels, size, filters, kernel;
};
// 'same' + ReLU: 3x3 1->32 on 48x48, 32->64 on 48x48, 64->128 on 24x24, 128->128 on 12x12;
// 5x5 64->64 on 48x48 and 128->128 on 24x24 (blocks the search draws, e.g. its trial 1);
// 3x3 32->64 on 24x24 and 64->128 on 12x12 (after one and two poolings, as in `mid`).
constexpr ConvShape kShapes[] = {{1, 48, 32, 3},    {32, 48, 64, 3}, {64, 24, 128, 3},
                                 {128, 12, 128, 3}, {64, 48, 64, 5}, {128, 24, 128, 5},
                                 {32, 24, 64, 3},   {64, 12, 128, 3}};
constexpr long kLayers = static_cast<long>(sizeof kShapes / sizeof kShapes[0]);
constexpr feral::Index kBatch = 64;

void BM_conv2d_forward_backward(benchmark::State& state) {
    const auto shape = kShapes[state.range(0)];
    const int threads = static_cast<int>(state.range(1));
    feral::nn::Conv2D<float> conv({.filters = shape.filters, .kernel_size = shape.kernel, .padding = feral::nn::Padding::same,
                                   .activation = feral::nn::Activation::relu});
    feral::Random rng(1);
    conv.set_threads(threads);
    conv.build({shape.channels, shape.size, shape.size}, rng);
    feral::Matrix<float> x(kBatch, shape.channels * shape.size * shape.size), y, dy, dx;
    for (feral::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform(-1, 1));
    conv.forward(x, y, true);
    dy.resize(y.rows(), y.cols());
    for (feral::Index i = 0; i < dy.size(); ++i) dy.data()[i] = static_cast<float>(rng.uniform(-1, 1));
    for (auto _ : state) {
        conv.forward(x, y, true);
        conv.backward(x, y, dy, &dx);
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    const double forward_flops = 2.0 * kBatch * shape.filters * shape.channels * shape.kernel * shape.kernel * shape.size * shape.size;
    state.counters["FLOPS"] = benchmark::Counter(3 * forward_flops, benchmark::Counter::kIsIterationInvariantRate);
}

void BM_conv2d_forward(benchmark::State& state) {
    const auto shape = kShapes[state.range(0)];
    feral::nn::Conv2D<float> conv({.filters = shape.filters, .kernel_size = shape.kernel, .padding = feral::nn::Padding::same,
                                   .activation = feral::nn::Activation::relu});
    feral::Random rng(1);
    conv.set_threads(static_cast<int>(state.range(1)));
    conv.build({shape.channels, shape.size, shape.size}, rng);
    feral::Matrix<float> x(kBatch, shape.channels * shape.size * shape.size), y;
    for (feral::Index i = 0; i < x.size(); ++i) x.data()[i] = static_cast<float>(rng.uniform(-1, 1));
    for (auto _ : state) {
        conv.forward(x, y, false);
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    const double forward_flops = 2.0 * kBatch * shape.filters * shape.channels * shape.kernel * shape.kernel * shape.size * shape.size;
    state.counters["FLOPS"] = benchmark::Counter(forward_flops, benchmark::Counter::kIsIterationInvariantRate);
}

/// With --benchmark_repetitions=R, also report the fastest repetition ("_min"): on a
/// shared machine the minimum is the least disturbed measurement.
double fastest(const std::vector<double>& v) { return *std::min_element(v.begin(), v.end()); }

void shapes(benchmark::internal::Benchmark* b) {
    b->ArgNames({"layer", "threads"});
    for (long threads : {1, 2})
        for (long layer = 0; layer < kLayers; ++layer) b->Args({layer, threads});
}

}  // namespace

BENCHMARK(BM_conv2d_forward)->Apply(shapes)->UseRealTime()->ComputeStatistics("min", fastest)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_conv2d_forward_backward)->Apply(shapes)->UseRealTime()->ComputeStatistics("min", fastest)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
