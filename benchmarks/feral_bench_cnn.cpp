// feral_bench_cnn — trains one of the named CNN architectures on FER2013 folders and prints
// one JSON line per epoch and a summary line.
//
//   feral_bench_cnn --arch small --train /work/shared/fer2013/train --test /work/shared/fer2013/test
//                   [--epochs E] [--limit N] [--threads T] [--seed S]
//
// Peer: benchmarks/peers/torch_cnn.py (same architectures, data, batch sizes, optimiser and
// threads); side by side: benchmarks/compare_cnn.py feral.jsonl torch.jsonl.
//
// Data: both folders in FER2013's class order, each class's files in file-name order;
// --limit N keeps the first N images of each class (feral::first_n_per_class). Inputs are
// pixels / 255. Architectures: include/feral/nn/architectures.hpp.
//
// Output lines:
//   {"library": "feral", "arch": "small", "epoch": 1, "seconds": ..., "images_per_second": ...,
//    "train_loss": ..., "train_accuracy": ..., "test_accuracy": ..., "gflops_per_second": ...}
//   {"library": "feral", "arch": "small", "summary": true, "epochs": E, "threads": T, "n_train": ...,
//    "n_test": ..., "seconds": total training seconds, "images_per_second": mean over epochs,
//    "test_accuracy": after the last epoch, "gflops_per_second": ..., "sgemm_peak_gflops": ...}
// seconds and images_per_second cover training only (forward, backward, optimiser and
// augmentation), not the test evaluation. gflops_per_second counts the dense arithmetic of
// training, 2 * forward MACs * 3 per image (architectures::training_flops_per_image).
// sgemm_peak_gflops is a 2048 x 2048 x 2048 float product on the layers' GEMM kernel
// (detail/kernels/gemm.hpp), best of 3, measured in the same run with the same threads.
//
#include <feral/core/threads.hpp>
#include <feral/data/folder_loader.hpp>
#include <feral/data/resample.hpp>
#include <feral/detail/kernels/gemm.hpp>
#include <feral/nn/architectures.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace {

using Clock = std::chrono::steady_clock;

double sgemm_peak_gflops(int threads) {
    namespace k = feral::detail::kernels;
    const k::gemm_index n = 2048;
    feral::Matrix<float> a(n, n), b(n, n), c(n, n);
    feral::Random rng(1);
    for (feral::Index i = 0; i < a.size(); ++i) {
        a.data()[i] = rng.uniform_float() - 0.5f;
        b.data()[i] = rng.uniform_float() - 0.5f;
    }
    double best = 1e30;
    for (int repeat = 0; repeat < 3; ++repeat) {
        const auto start = Clock::now();
        k::gemm_parallel<float>(n, n, n, k::GemmOperand<float>::row_major(a.data(), n),
                                k::GemmOperand<float>::row_major(b.data(), n), c.data(), n, false, {}, threads);
        best = std::min(best, std::chrono::duration<double>(Clock::now() - start).count());
    }
    return 2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n) / best / 1e9;
}

/// Evaluates the test set after every epoch and prints the epoch's JSON line.
class EpochReporter final : public feral::nn::Callback<float> {
public:
    EpochReporter(feral::nn::Sequential<float>& model, const feral::Matrix<float>& X_test, const feral::Labels& y_test,
                  std::string arch, double flops_per_image)
        : model_(model), X_test_(X_test), y_test_(y_test), arch_(std::move(arch)), flops_per_image_(flops_per_image) {}

    void on_epoch_end(const feral::nn::EpochLogs& logs, feral::nn::TrainingControl<float>&) override {
        last_test_accuracy = model_.evaluate(X_test_, y_test_).accuracy;
        const double train_seconds = logs.images_per_second > 0 ? logs.seconds : 0.0;
        total_seconds += train_seconds;
        images_per_second_sum += logs.images_per_second;
        ++epochs;
        const nlohmann::ordered_json line = {
            {"library", "feral"},
            {"arch", arch_},
            {"epoch", logs.epoch + 1},
            {"seconds", train_seconds},
            {"images_per_second", logs.images_per_second},
            {"train_loss", logs.loss},
            {"train_accuracy", logs.accuracy},
            {"test_accuracy", last_test_accuracy},
            {"gflops_per_second", flops_per_image_ * logs.images_per_second / 1e9},
        };
        std::cout << line.dump() << std::endl;
    }

    double last_test_accuracy = 0, total_seconds = 0, images_per_second_sum = 0;
    int epochs = 0;

private:
    feral::nn::Sequential<float>& model_;
    const feral::Matrix<float>& X_test_;
    const feral::Labels& y_test_;
    std::string arch_;
    double flops_per_image_;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"feral's CNN training benchmark on FER2013 folders, printed as JSON lines"};
    std::string arch = "small", train_dir, test_dir;
    int epochs = 1, threads = 0;
    feral::Index limit = 0;
    std::uint64_t seed = 0;
    app.add_option("--arch", arch, "architecture: small, mid, deep, wide, mlp, lstm");
    app.add_option("--train", train_dir, "training folder (root/<class>/*.png)")->required();
    app.add_option("--test", test_dir, "test folder (root/<class>/*.png)")->required();
    app.add_option("--epochs", epochs, "epochs")->check(CLI::PositiveNumber);
    app.add_option("--limit", limit, "keep the first N images of each class of both folders (0 = all)")->check(CLI::NonNegativeNumber);
    app.add_option("--threads", threads, "threads (0 = FERAL_NUM_THREADS or all cores)")->check(CLI::NonNegativeNumber);
    app.add_option("--seed", seed, "seed of initialisation, shuffling, dropout and augmentation");
    CLI11_PARSE(app, argc, argv);

    try {
        const int resolved = feral::resolve_threads(threads);
        feral::Dataset train = feral::load_image_folder(train_dir, {.keep_sources = false, .n_threads = resolved}).data;
        feral::Dataset test = feral::load_image_folder(test_dir, {.keep_sources = false, .n_threads = resolved}).data;
        if (limit > 0) {
            train = feral::first_n_per_class(train, limit);
            test = feral::first_n_per_class(test, limit);
        }
        const double peak = sgemm_peak_gflops(resolved);

        auto a = feral::nn::architectures::make<float>(arch, train.num_classes());
        a.model.build(train.shape, seed);
        a.model.compile(std::make_unique<feral::nn::Adam<float>>(feral::nn::Adam<float>::Config{.learning_rate = a.learning_rate}));
        const double flops = feral::nn::architectures::training_flops_per_image(a.model);
        const feral::Matrix<float> X_train = feral::nn::Sequential<float>::to_input(train);
        const feral::Matrix<float> X_test = feral::nn::Sequential<float>::to_input(test);
        EpochReporter reporter(a.model, X_test, test.labels, arch, flops);
        feral::nn::FitConfig fit;
        fit.epochs = epochs;
        fit.batch_size = a.batch_size;
        fit.seed = seed;
        fit.augment = a.augment;
        fit.verbose = 0;
        fit.n_threads = resolved;
        a.model.fit(X_train, train.labels, fit, {&reporter});
        const double mean_ips = reporter.images_per_second_sum / std::max(reporter.epochs, 1);
        const nlohmann::ordered_json summary = {
            {"library", "feral"},
            {"arch", arch},
            {"summary", true},
            {"epochs", reporter.epochs},
            {"threads", resolved},
            {"n_train", train.size()},
            {"n_test", test.size()},
            {"batch_size", a.batch_size},
            {"seconds", reporter.total_seconds},
            {"images_per_second", mean_ips},
            {"test_accuracy", reporter.last_test_accuracy},
            {"gflops_per_second", flops * mean_ips / 1e9},
            {"sgemm_peak_gflops", peak},
        };
        std::cout << summary.dump() << std::endl;
    } catch (const std::exception& e) {
        std::cerr << "feral_bench_cnn: " << e.what() << '\n';
        return 1;
    }
    return 0;
}
