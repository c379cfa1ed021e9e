// Tests for feral/data/synthetic_faces.hpp.
#include "feral/data/synthetic_faces.hpp"

#include <catch2/catch.hpp>

#include <cmath>

namespace {
// Nearest-centroid accuracy of `test` against class means of `train` (plain pixels).
double nearest_centroid_accuracy(const feral::Dataset& train, const feral::Dataset& test) {
    Eigen::MatrixXd centroids = Eigen::MatrixXd::Zero(7, train.pixels.cols());
    std::vector<double> n(7, 0.0);
    for (feral::Index i = 0; i < train.size(); ++i) {
        for (feral::Index j = 0; j < train.pixels.cols(); ++j) centroids(train.labels[i], j) += train.pixels(i, j);
        n[static_cast<std::size_t>(train.labels[i])] += 1;
    }
    for (int c = 0; c < 7; ++c) centroids.row(c) /= n[static_cast<std::size_t>(c)];
    int correct = 0;
    for (feral::Index i = 0; i < test.size(); ++i) {
        int best = 0;
        double best_distance = INFINITY;
        for (int c = 0; c < 7; ++c) {
            double d = 0;
            for (feral::Index j = 0; j < test.pixels.cols(); ++j) {
                const double diff = test.pixels(i, j) - centroids(c, j);
                d += diff * diff;
            }
            if (d < best_distance) {
                best_distance = d;
                best = c;
            }
        }
        correct += best == test.labels[i];
    }
    return static_cast<double>(correct) / static_cast<double>(test.size());
}
}  // namespace

TEST_CASE("make_synthetic_faces gives the requested class counts with FER2013 class names", "[data][synthetic]") {
    const auto data = feral::make_synthetic_faces(6, 1);
    CHECK(data.size() == 42);
    CHECK(data.class_names == feral::fer2013_class_names());
    CHECK(data.shape == feral::ImageShape{1, 48, 48});
    CHECK(data.class_counts() == std::vector<feral::Index>(7, 6));
    CHECK(data.labels[0] == 0);
    CHECK(data.labels[41] == 6);
    data.validate();
    const auto imbalanced = feral::make_synthetic_faces({4, 0, 5, 9, 6, 3, 7}, 1);
    CHECK(imbalanced.class_counts() == std::vector<feral::Index>{4, 0, 5, 9, 6, 3, 7});
}

TEST_CASE("make_synthetic_faces is bit-identical for a seed, whatever the thread count", "[data][synthetic]") {
    const auto one = feral::make_synthetic_faces(5, 77, {.n_threads = 1});
    for (int threads : {2, 3, 7}) {
        const auto many = feral::make_synthetic_faces(5, 77, {.n_threads = threads});
        CHECK(many.pixels == one.pixels);
        CHECK(many.labels == one.labels);
    }
    const auto other = feral::make_synthetic_faces(5, 78, {.n_threads = 1});
    CHECK(other.pixels != one.pixels);
    // Image i depends only on (seed, i): a longer request starts with the same images of class 0.
    const auto longer = feral::make_synthetic_faces({5, 1, 1, 1, 1, 1, 1}, 77, {.n_threads = 2});
    CHECK(longer.pixels.topRows(6) == one.pixels.topRows(6));
}

TEST_CASE("synthetic faces vary in identity, pose and lighting within a class", "[data][synthetic]") {
    const auto data = feral::make_synthetic_faces(20, 3);
    // Within class 6 (neutral), pixel values at the image centre spread widely.
    double sum = 0, squares = 0;
    for (feral::Index i = 120; i < 140; ++i) {
        const double v = data.pixels(i, 24 * 48 + 24);
        sum += v;
        squares += v * v;
    }
    const double mean = sum / 20, spread = std::sqrt(squares / 20 - mean * mean);
    CHECK(spread > 15);
    // Images use a good part of the 8-bit range but are not saturated.
    const double overall = data.pixels.cast<double>().mean();
    CHECK(overall > 60);
    CHECK(overall < 200);
}

TEST_CASE("with every nuisance switched off each expression is one clean, recognisable face", "[data][synthetic]") {
    const feral::SyntheticFacesConfig clean{.intensity_min = 1.0, .expression_jitter = 0.0, .identity_jitter = 0.0,
                                            .rotation_degrees = 0.0, .scale_jitter = 0.0, .shift_pixels = 0.0, .yaw = 0.0,
                                            .lighting = 0.0, .noise = 0.0, .occlusion = 0.0};
    const auto train = feral::make_synthetic_faces(3, 1, clean);
    const auto test = feral::make_synthetic_faces(3, 2, clean);
    CHECK(nearest_centroid_accuracy(train, test) == 1.0);
    // The classes really differ: every pair of class means is far apart.
    for (int a = 0; a < 7; ++a)
        for (int b = a + 1; b < 7; ++b) {
            const double d = (train.pixels.row(3 * a).cast<double>() - train.pixels.row(3 * b).cast<double>()).norm();
            INFO(feral::fer2013_class_names()[static_cast<std::size_t>(a)] << " vs " << feral::fer2013_class_names()[static_cast<std::size_t>(b)]);
            CHECK(d > 100);
        }
}

TEST_CASE("default synthetic faces are hard for nearest centroid but far from random", "[data][synthetic]") {
    const auto train = feral::make_synthetic_faces(80, 11);
    const auto test = feral::make_synthetic_faces(40, 12);
    const double accuracy = nearest_centroid_accuracy(train, test);
    INFO("nearest-centroid accuracy " << accuracy);
    CHECK(accuracy > 0.10);
    CHECK(accuracy < 0.45);
}

TEST_CASE("make_synthetic_faces rejects impossible requests and knobs, naming them", "[data][synthetic]") {
    CHECK_THROWS_WITH(feral::make_synthetic_faces(0, 1), Catch::Contains("n_per_class must be at least 1"));
    CHECK_THROWS_WITH(feral::make_synthetic_faces(std::vector<feral::Index>{1, 2, 3}, 1), Catch::Contains("need 7 class counts"));
    CHECK_THROWS_WITH(feral::make_synthetic_faces({1, 1, -1, 1, 1, 1, 1}, 1), Catch::Contains("class 2 is -1"));
    CHECK_THROWS_WITH(feral::make_synthetic_faces({0, 0, 0, 0, 0, 0, 0}, 1), Catch::Contains("no images"));
    CHECK_THROWS_WITH(feral::make_synthetic_faces(2, 1, {.noise = -1}), Catch::Contains("noise = -1"));
    CHECK_THROWS_WITH(feral::make_synthetic_faces(2, 1, {.occlusion = 1.5}), Catch::Contains("occlusion = 1.5"));
    CHECK_THROWS_WITH(feral::make_synthetic_faces(2, 1, {.intensity_min = NAN}), Catch::Contains("intensity_min"));
    CHECK_THROWS_AS(feral::make_synthetic_faces(2, 1, {.n_threads = -2}), feral::invalid_argument);
}
