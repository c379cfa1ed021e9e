// feral_bench_hog — HOG features of FER2013 faces, timed over a whole folder.
//
//   feral_bench_hog --train /work/shared/fer2013/train [--limit N] [--threads T] [--repeat R]
//
// Loads up to N PNGs from DIR/<class>/*.png (sorted, decoded in parallel before the
// clock starts), then times feral::hog on the N x 2304 batch with OpenCV's face
// setting: 9 orientations, 8x8 cells, 2x2-cell blocks (HOGDescriptor((48,48),
// (16,16),(8,8),(8,8),9)), L2-Hys. Prints one JSON line; the best of R runs is reported.
// Peers: benchmarks/peers/skimage_hog.py and benchmarks/peers/opencv_hog.py.
#include "feral/core/threads.hpp"
#include "feral/data/image_io.hpp"
#include "feral/vision/hog.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

int main(int argc, char** argv) {
    CLI::App app{"feral HOG benchmark"};
    std::string train;
    long limit = 5000;
    int threads = 0, repeat = 3;
    app.add_option("--train", train, "folder with <class>/*.png")->required();
    app.add_option("--limit", limit, "number of images");
    app.add_option("--threads", threads, "threads (0 = FERAL_NUM_THREADS or all cores)");
    app.add_option("--repeat", repeat, "timed repetitions (best is reported)");
    CLI11_PARSE(app, argc, argv);

    std::vector<fs::path> files;
    std::vector<fs::path> classes;
    for (const auto& entry : fs::directory_iterator(train))
        if (entry.is_directory()) classes.push_back(entry.path());
    std::sort(classes.begin(), classes.end());
    for (const auto& dir : classes) {
        std::vector<fs::path> in_class;
        for (const auto& entry : fs::directory_iterator(dir))
            if (entry.path().extension() == ".png") in_class.push_back(entry.path());
        std::sort(in_class.begin(), in_class.end());
        files.insert(files.end(), in_class.begin(), in_class.end());
    }
    // Interleave classes deterministically is unnecessary for timing; take the first N.
    if (limit > 0 && static_cast<long>(files.size()) > limit) files.resize(static_cast<std::size_t>(limit));
    if (files.empty()) {
        std::cerr << "feral_bench_hog: no PNG files under " << train << "\n";
        return 1;
    }
    const auto n = static_cast<feral::Index>(files.size());
    feral::PixelMatrix pixels(n, 48 * 48);
    feral::parallel_for_each_index(0, n, threads, [&](std::int64_t i) {
        const auto face = feral::read_image(files[static_cast<std::size_t>(i)], feral::ColorMode::gray);
        if (face.height() != 48 || face.width() != 48)
            throw feral::format_error("feral_bench_hog: " + files[static_cast<std::size_t>(i)].string() + " is not 48x48");
        std::copy_n(face.data(), 48 * 48, pixels.row(i).data());
    });

    feral::HogParams params;
    params.orientations = 9;
    params.pixels_per_cell = {8, 8};
    params.cells_per_block = {2, 2};
    params.block_norm = feral::BlockNorm::L2_Hys;
    params.n_threads = threads;
    double best = 1e30;
    feral::Index n_features = 0;
    for (int r = 0; r < std::max(repeat, 1); ++r) {
        const auto start = std::chrono::steady_clock::now();
        const feral::Matrix<float> features = feral::hog<std::uint8_t>(pixels, feral::ImageShape{1, 48, 48}, params);
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        best = std::min(best, seconds);
        n_features = features.cols();
    }
    nlohmann::json out = {{"pipeline", "hog"},         {"implementation", "feral"},
                          {"n_images", n},             {"n_features", n_features},
                          {"threads", feral::resolve_threads(threads)},
                          {"seconds", best},           {"us_per_image", best * 1e6 / static_cast<double>(n)}};
    std::cout << out.dump() << std::endl;
    return 0;
}
