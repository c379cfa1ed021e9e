// Tests for feral/vision/hog.hpp against scikit-image 0.19's skimage.feature.hog.
#include "feral/vision/hog.hpp"

#include "feral/core/random.hpp"
#include "feral/data/image_io.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace {

template <class Pixel>
feral::Image<Pixel> image_from(const Eigen::MatrixXd& m) {
    feral::Image<Pixel> image(m.rows(), m.cols());
    for (Eigen::Index r = 0; r < m.rows(); ++r)
        for (Eigen::Index c = 0; c < m.cols(); ++c) image(r, c) = static_cast<Pixel>(m(r, c));
    return image;
}

feral::HogParams params_from(const Eigen::MatrixXd& p) {
    feral::HogParams params;
    params.orientations = static_cast<int>(p(0));
    params.pixels_per_cell = {static_cast<int>(p(1)), static_cast<int>(p(2))};
    params.cells_per_block = {static_cast<int>(p(3)), static_cast<int>(p(4))};
    params.block_norm = static_cast<feral::BlockNorm>(static_cast<int>(p(5)));
    params.transform_sqrt = p(6) != 0;
    return params;
}

double max_abs_diff(const std::vector<float>& a, const Eigen::MatrixXd& b) {
    double worst = 0;
    for (std::size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b.data()[i]));
    return worst;
}

}  // namespace

TEST_CASE("hog equals skimage.feature.hog for nine parameter sets and edge images", "[vision][hog]") {
    const feral::test::Fixture fx(feral::test::fixture("vision/hog.txt"));
    const int n_cases = static_cast<int>(fx.scalar("n_cases"));
    REQUIRE(n_cases >= 9);
    for (int k = 0; k < n_cases; ++k) {
        const auto& pixels = fx.matrix("image_" + std::to_string(k));
        const auto params = params_from(fx.matrix("params_" + std::to_string(k)));
        const auto& shape = fx.matrix("shape_" + std::to_string(k));
        const auto& expected = fx.matrix("expected_" + std::to_string(k));
        INFO("case " << k << ": " << pixels.rows() << "x" << pixels.cols() << ", " << params.orientations
                     << " bins, norm " << feral::to_string(params.block_norm));
        std::vector<float> features;
        feral::HogBlocks blocks;
        if (k == 7) {  // the float image in [0, 1)
            const auto image = image_from<float>(pixels);
            features = feral::hog(image, params);
            blocks = feral::hog_blocks(image, params);
        } else {
            const auto image = image_from<std::uint8_t>(pixels);
            features = feral::hog(image, params);
            blocks = feral::hog_blocks(image, params);
        }
        REQUIRE(static_cast<Eigen::Index>(features.size()) == expected.size());
        CHECK(max_abs_diff(features, expected) <= 1e-5);
        // feature_vector=False: the 5-D shape and element access.
        CHECK(blocks.layout.n_blocks_row == shape(0));
        CHECK(blocks.layout.n_blocks_col == shape(1));
        CHECK(blocks.layout.b_row == shape(2));
        CHECK(blocks.layout.b_col == shape(3));
        CHECK(blocks.layout.orientations == shape(4));
        const auto& l = blocks.layout;
        CHECK(blocks.at(l.n_blocks_row - 1, l.n_blocks_col - 1, l.b_row - 1, l.b_col - 1, l.orientations - 1) ==
              features.back());
    }
}

TEST_CASE("a flat image has an all-zero descriptor", "[vision][hog]") {
    const feral::Image<std::uint8_t> flat(32, 24, 1, 77);
    for (auto norm : {feral::BlockNorm::L1, feral::BlockNorm::L1_sqrt, feral::BlockNorm::L2, feral::BlockNorm::L2_Hys}) {
        feral::HogParams p;
        p.block_norm = norm;
        const auto f = feral::hog(flat, p);
        CHECK(f.size() == 2u * 1u * 3u * 3u * 9u);
        CHECK(std::all_of(f.begin(), f.end(), [](float v) { return v == 0.0f; }));
    }
}

TEST_CASE("hog visualisation equals skimage's visualize=True image", "[vision][hog]") {
    const feral::test::Fixture fx(feral::test::fixture("vision/hog_visualize.txt"));
    SECTION("smooth image, default parameters") {
        const auto image = image_from<std::uint8_t>(fx.matrix("smooth"));
        const auto vis = feral::hog_visualize(image);
        const auto& expected = fx.matrix("smooth_hog_image");
        double worst = 0;
        for (Eigen::Index r = 0; r < expected.rows(); ++r)
            for (Eigen::Index c = 0; c < expected.cols(); ++c)
                worst = std::max(worst, std::abs(vis.image(r, c) - expected(r, c)));
        CHECK(worst <= 1e-3);  // cell histograms are float sums of values up to ~360
        CHECK(vis.features == feral::hog(image));
        // Written as PNG and read back.
        const auto dir = feral::test::scratch_dir("hog_visualize");
        const auto png = feral::to_uint8_scaled(vis.image);
        feral::write_png(dir / "hog.png", png);
        CHECK(feral::read_image(dir / "hog.png") == png);
        CHECK(*std::max_element(png.pixels().begin(), png.pixels().end()) == 255);
    }
    SECTION("one-pixel lines, 6 bins, 6x6 cells") {
        const auto image = image_from<std::uint8_t>(fx.matrix("lines"));
        feral::HogParams p;
        p.orientations = 6;
        p.pixels_per_cell = {6, 6};
        p.cells_per_block = {2, 2};
        const auto vis = feral::hog_visualize(image, p);
        const auto& expected = fx.matrix("lines_hog_image");
        double worst = 0;
        for (Eigen::Index r = 0; r < expected.rows(); ++r)
            for (Eigen::Index c = 0; c < expected.cols(); ++c)
                worst = std::max(worst, std::abs(vis.image(r, c) - expected(r, c)));
        CHECK(worst <= 1e-3);
    }
}

TEST_CASE("batch hog equals per-image hog for every thread count", "[vision][hog]") {
    feral::Random rng(3);
    feral::Dataset data;
    data.shape = {1, 48, 48};
    data.pixels.resize(23, 48 * 48);
    for (Eigen::Index i = 0; i < data.pixels.size(); ++i)
        data.pixels.data()[i] = static_cast<std::uint8_t>(rng.below(256));
    data.labels = Eigen::VectorXi::Zero(23);
    data.class_names = {"a"};
    feral::HogParams p;
    p.cells_per_block = {2, 2};
    p.n_threads = 1;
    const feral::Matrix<float> one = feral::hog(data, p);
    REQUIRE(one.rows() == 23);
    REQUIRE(one.cols() == 900);
    for (int threads : {2, 3, 8}) {
        p.n_threads = threads;
        CHECK(feral::hog(data, p) == one);
    }
    for (Eigen::Index i : {Eigen::Index{0}, Eigen::Index{11}, Eigen::Index{22}}) {
        const auto single = feral::hog(data.pixels.row(i).data(), 48, 48, p);
        CHECK(std::equal(single.begin(), single.end(), one.row(i).data()));
    }
    // Float batches give the same features as 8-bit ones.
    const feral::Matrix<float> as_float = data.pixels.cast<float>();
    CHECK(feral::hog<float>(as_float, data.shape, p) == one);
}

TEST_CASE("hog rejects bad images and impossible parameters with named errors", "[vision][hog]") {
    const feral::Image<std::uint8_t> image(48, 48);
    feral::HogParams p;
    CHECK_THROWS_WITH(feral::hog(feral::Image<std::uint8_t>(), p), Catch::Contains("empty image"));
    p.pixels_per_cell = {64, 8};
    CHECK_THROWS_WITH(feral::hog(image, p), Catch::Contains("larger than the 48 x 48 image"));
    p = {};
    p.cells_per_block = {7, 3};
    CHECK_THROWS_WITH(feral::hog(image, p), Catch::Contains("blocks of 7 x 3 cells"));
    p = {};
    p.orientations = 0;
    CHECK_THROWS_WITH(feral::hog(image, p), Catch::Contains("orientations") && Catch::Contains("0"));
    p = {};
    p.pixels_per_cell = {8, -1};
    CHECK_THROWS_AS(feral::hog(image, p), feral::invalid_argument);
    p = {};
    p.cells_per_block = {0, 1};
    CHECK_THROWS_AS(feral::hog(image, p), feral::invalid_argument);
    CHECK_THROWS_WITH(feral::parse_block_norm("L3"), Catch::Contains("'L3'"));
    CHECK(feral::parse_block_norm("L1-sqrt") == feral::BlockNorm::L1_sqrt);
    feral::Image<float> bad(16, 16, 1, 1.0f);
    bad(3, 5) = std::nanf("");
    feral::HogParams small;
    small.cells_per_block = {1, 1};
    CHECK_THROWS_WITH(feral::hog(bad, small), Catch::Contains("pixel (3, 5)") && Catch::Contains("nan"));
    bad(3, 5) = -1.0f;
    feral::HogParams sq;
    sq.transform_sqrt = true;
    sq.cells_per_block = {1, 1};
    CHECK_THROWS_WITH(feral::hog(bad, sq), Catch::Contains("non-negative"));
    CHECK_THROWS_WITH(feral::hog(feral::Image<std::uint8_t>(8, 8, 3), feral::HogParams{}), Catch::Contains("3 channels"));
    feral::Matrix<float> batch(2, 10);
    batch.setZero();
    CHECK_THROWS_WITH(feral::hog<float>(batch, feral::ImageShape{1, 4, 4}, feral::HogParams{}), Catch::Contains("needs 16"));
}

TEST_CASE("hog equals skimage on named FER2013 faces", "[vision][hog][fer2013]") {
    auto root = feral::test::fer2013_root("hog equals skimage on named FER2013 faces");
    if (!root) return;
    const feral::test::Fixture fx(feral::test::fixture("vision/hog_fer2013.txt"));
    std::istringstream names(fx.text("files"));
    const auto& expected_fer = fx.matrix("hog_9_8x8_2x2");
    const auto& expected_default = fx.matrix("hog_default");
    std::string name;
    Eigen::Index k = 0;
    while (std::getline(names, name)) {
        INFO(name);
        const auto face = feral::read_image(*root / name, feral::ColorMode::gray);
        feral::HogParams p;
        p.cells_per_block = {2, 2};
        const auto f = feral::hog(face, p);
        REQUIRE(static_cast<Eigen::Index>(f.size()) == expected_fer.cols());
        double worst = 0;
        for (std::size_t j = 0; j < f.size(); ++j) worst = std::max(worst, std::abs(f[j] - expected_fer(k, static_cast<Eigen::Index>(j))));
        CHECK(worst <= 1e-5);
        const auto d = feral::hog(face);
        worst = 0;
        for (std::size_t j = 0; j < d.size(); ++j) worst = std::max(worst, std::abs(d[j] - expected_default(k, static_cast<Eigen::Index>(j))));
        CHECK(worst <= 1e-5);
        ++k;
    }
    CHECK(k == 5);
}
