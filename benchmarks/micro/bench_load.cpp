// Loading benchmarks: the FER2013 training folder (28,544 PNGs), the FER2013 CSV, and drawing
// the built-in synthetic faces (no data needed).
//
//   bench_load [--data DIR] [--csv FILE] [google benchmark flags]
//
// DIR is the FER2013 root holding train/ (default: $FERAL_FER2013); FILE a CSV in the
// original format (default: DIR/fer2013-sample.csv). Thread counts 1 and 2 (and all cores)
// are measured for the folder. Compare with benchmarks/peers/pil_load.py on the same folder.
#include "feral/data/csv_loader.hpp"
#include "feral/data/folder_loader.hpp"
#include "feral/data/synthetic_faces.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace {
std::filesystem::path g_data;
std::filesystem::path g_csv;

void BM_load_folder(benchmark::State& state) {
    const auto train = g_data / "train";
    const int threads = static_cast<int>(state.range(0));
    feral::Index images = 0;
    for (auto _ : state) {
        auto loaded = feral::load_image_folder(train, {.n_threads = threads});
        images = loaded.data.size();
        benchmark::DoNotOptimize(loaded.data.pixels.data());
    }
    state.counters["images"] = static_cast<double>(images);
    state.counters["images_per_s"] = benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_load_csv(benchmark::State& state) {
    std::size_t bytes = std::filesystem::file_size(g_csv);
    feral::Index rows = 0;
    for (auto _ : state) {
        auto csv = feral::load_fer2013_csv(g_csv);
        rows = csv.training.size() + csv.public_test.size() + csv.private_test.size();
        benchmark::DoNotOptimize(csv.training.pixels.data());
    }
    state.counters["rows"] = static_cast<double>(rows);
    state.SetBytesProcessed(static_cast<std::int64_t>(bytes) * static_cast<std::int64_t>(state.iterations()));
}
void BM_synthetic_faces(benchmark::State& state) {
    const feral::Index per_class = 100;
    const int threads = static_cast<int>(state.range(0));
    for (auto _ : state) {
        auto data = feral::make_synthetic_faces(per_class, 42, {.n_threads = threads});
        benchmark::DoNotOptimize(data.pixels.data());
    }
    state.counters["faces_per_s"] = benchmark::Counter(7.0 * per_class, benchmark::Counter::kIsIterationInvariantRate);
}
}  // namespace

int main(int argc, char** argv) {
    std::vector<char*> rest{argv[0]};
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) g_data = argv[++i];
        else if (std::strcmp(argv[i], "--csv") == 0 && i + 1 < argc) g_csv = argv[++i];
        else rest.push_back(argv[i]);
    }
    if (g_data.empty()) {
        if (const char* env = std::getenv("FERAL_FER2013")) g_data = env;
    }
    if (g_csv.empty() && !g_data.empty()) g_csv = g_data / "fer2013-sample.csv";
    if (!g_data.empty() && std::filesystem::is_directory(g_data / "train")) {
        benchmark::RegisterBenchmark("load_folder/train", BM_load_folder)
            ->Arg(1)->Arg(2)->Arg(feral::hardware_threads())->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();
    } else {
        std::cerr << "bench_load: no FER2013 folder (pass --data DIR or set FERAL_FER2013); skipping the folder benchmark\n";
    }
    if (!g_csv.empty() && std::filesystem::is_regular_file(g_csv)) {
        benchmark::RegisterBenchmark("load_csv", BM_load_csv)->Unit(benchmark::kMillisecond)->UseRealTime();
    } else {
        std::cerr << "bench_load: no CSV (pass --csv FILE); skipping the CSV benchmark\n";
    }
    benchmark::RegisterBenchmark("synthetic_faces/700", BM_synthetic_faces)
        ->Arg(1)->Arg(2)->ArgName("threads")->Unit(benchmark::kMillisecond)->UseRealTime();
    int n = static_cast<int>(rest.size());
    benchmark::Initialize(&n, rest.data());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
