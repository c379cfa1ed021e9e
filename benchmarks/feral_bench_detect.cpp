// feral_bench_detect — Haar-cascade face detection (OpenCV's detectMultiScale) timed per photo.
//
//   feral_bench_detect [--cascade FILE] [--threads T] [--repeat R] [--scale 1.1] [--neighbors 3]
//                      [--min-size 0] PHOTO...
//
// Prints one JSON line per photo: {"pipeline": "detect", "image", "width", "height",
// "faces", "seconds"} with the best of R detection calls (decoding is not timed).
// Peer: benchmarks/peers/opencv_detect.py (cv2.CascadeClassifier, same flags).
#include "feral/core/threads.hpp"
#include "feral/data/image_io.hpp"
#include "feral/vision/haar_cascade.hpp"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    CLI::App app{"feral Haar-cascade detection benchmark"};
    std::string cascade_file = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";
    std::vector<std::string> photos;
    int threads = 0, repeat = 5, neighbors = 3, min_size = 0;
    double scale = 1.1;
    app.add_option("--cascade", cascade_file, "OpenCV cascade XML");
    app.add_option("--threads", threads, "threads (0 = FERAL_NUM_THREADS or all cores)");
    app.add_option("--repeat", repeat, "timed repetitions (best is reported)");
    app.add_option("--scale", scale, "scale factor");
    app.add_option("--neighbors", neighbors, "min_neighbors");
    app.add_option("--min-size", min_size, "minimum window side");
    app.add_option("photos", photos, "images to search")->required();
    CLI11_PARSE(app, argc, argv);

    const auto cascade = feral::HaarCascade::load(cascade_file);
    feral::DetectParams params;
    params.scale_factor = scale;
    params.min_neighbors = neighbors;
    params.min_width = params.min_height = min_size;
    params.n_threads = threads;
    for (const auto& photo : photos) {
        const auto gray = feral::read_image(photo, feral::ColorMode::gray);
        double best = 1e30;
        std::size_t faces = 0;
        for (int r = 0; r < std::max(repeat, 1); ++r) {
            const auto start = std::chrono::steady_clock::now();
            faces = cascade.detect(gray, params).size();
            best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        }
        nlohmann::json out = {{"pipeline", "detect"}, {"implementation", "feral"}, {"image", photo},
                              {"width", gray.width()}, {"height", gray.height()}, {"faces", faces},
                              {"threads", feral::resolve_threads(threads)}, {"seconds", best}};
        std::cout << out.dump() << std::endl;
    }
    return 0;
}
