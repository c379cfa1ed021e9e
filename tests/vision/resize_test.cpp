// Tests for feral/vision/resize.hpp and integral_image.hpp against OpenCV 4.6 (cv2).
#include "feral/vision/integral_image.hpp"
#include "feral/vision/resize.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace {

template <class Pixel>
feral::Image<Pixel> image_from(const Eigen::MatrixXd& m, Eigen::Index channels = 1) {
    feral::Image<Pixel> image(m.rows(), m.cols() / channels, channels);
    for (Eigen::Index r = 0; r < m.rows(); ++r)
        for (Eigen::Index c = 0; c < m.cols(); ++c) image.data()[r * m.cols() + c] = static_cast<Pixel>(m(r, c));
    return image;
}

template <class Pixel>
double max_abs_diff(const feral::Image<Pixel>& image, const Eigen::MatrixXd& expected) {
    REQUIRE(image.height() == expected.rows());
    REQUIRE(image.width() * image.channels() == expected.cols());
    double worst = 0;
    for (Eigen::Index r = 0; r < expected.rows(); ++r)
        for (Eigen::Index c = 0; c < expected.cols(); ++c)
            worst = std::max(worst, std::abs(static_cast<double>(image.data()[r * expected.cols() + c]) - expected(r, c)));
    return worst;
}

}  // namespace

TEST_CASE("bilinear resize of 8-bit images equals cv2.resize INTER_LINEAR and INTER_LINEAR_EXACT exactly", "[vision][resize]") {
    const feral::test::Fixture fx(feral::test::fixture("vision/resize.txt"));
    const auto gray = image_from<std::uint8_t>(fx.matrix("gray"));
    const auto rgb = image_from<std::uint8_t>(fx.matrix("rgb"), 3);
    const auto& sizes = fx.matrix("sizes");
    for (Eigen::Index k = 0; k < sizes.rows(); ++k) {
        const auto h = static_cast<feral::Index>(sizes(k, 0)), w = static_cast<feral::Index>(sizes(k, 1));
        INFO("size " << h << " x " << w);
        CHECK(max_abs_diff(feral::resize(gray, h, w), fx.matrix("gray_linear_" + std::to_string(k))) == 0);
        CHECK(max_abs_diff(feral::resize(rgb, h, w), fx.matrix("rgb_linear_" + std::to_string(k))) == 0);
        CHECK(max_abs_diff(feral::resize(gray, h, w, feral::Interpolation::bilinear_exact),
                           fx.matrix("gray_exact_" + std::to_string(k))) == 0);
        CHECK(max_abs_diff(feral::resize(rgb, h, w, feral::Interpolation::bilinear_exact),
                           fx.matrix("rgb_exact_" + std::to_string(k))) == 0);
    }
    const auto& pyramid = fx.matrix("pyramid_sizes");
    for (Eigen::Index k = 0; k < pyramid.rows(); ++k) {
        const auto h = static_cast<feral::Index>(pyramid(k, 0)), w = static_cast<feral::Index>(pyramid(k, 1));
        INFO("pyramid level " << k + 1 << ": " << h << " x " << w);
        CHECK(max_abs_diff(feral::resize(gray, h, w), fx.matrix("pyramid_" + std::to_string(k + 1))) == 0);
        CHECK(max_abs_diff(feral::resize(gray, h, w, feral::Interpolation::bilinear_exact),
                           fx.matrix("pyramid_exact_" + std::to_string(k + 1))) == 0);
    }
}

TEST_CASE("float bilinear resize matches cv2 and area resize averages boxes", "[vision][resize]") {
    const feral::test::Fixture fx(feral::test::fixture("vision/resize.txt"));
    const auto flt = image_from<float>(fx.matrix("float"));
    const auto gray = image_from<std::uint8_t>(fx.matrix("gray"));
    const auto& sizes = fx.matrix("sizes");
    for (Eigen::Index k = 0; k < sizes.rows(); ++k) {
        const auto h = static_cast<feral::Index>(sizes(k, 0)), w = static_cast<feral::Index>(sizes(k, 1));
        INFO("size " << h << " x " << w);
        CHECK(max_abs_diff(feral::resize(flt, h, w), fx.matrix("float_linear_" + std::to_string(k))) <= 1e-5);
        // INTER_AREA is computed in float by OpenCV and rounded: allow one grey level.
        CHECK(max_abs_diff(feral::resize(gray, h, w, feral::Interpolation::area),
                           fx.matrix("gray_area_" + std::to_string(k))) <= 1);
    }
}

TEST_CASE("crop and flip_horizontal move the right pixels", "[vision][resize]") {
    feral::Image<std::uint8_t> image(4, 5, 3);
    for (feral::Index i = 0; i < image.size(); ++i) image.data()[i] = static_cast<std::uint8_t>(i);
    const auto patch = feral::crop(image, 1, 2, 2, 3);
    REQUIRE(patch.height() == 2);
    REQUIRE(patch.width() == 3);
    CHECK(patch(0, 0, 0) == image(1, 2, 0));
    CHECK(patch(1, 2, 2) == image(2, 4, 2));
    const auto mirror = feral::flip_horizontal(image);
    CHECK(mirror(3, 0, 1) == image(3, 4, 1));
    CHECK(feral::flip_horizontal(mirror) == image);
    CHECK_THROWS_WITH(feral::crop(image, 3, 0, 2, 2), Catch::Contains("outside the 4 x 5 image"));
    CHECK_THROWS_AS(feral::crop(image, 0, 0, 0, 2), feral::invalid_argument);
    CHECK_THROWS_WITH(feral::resize(feral::Image<std::uint8_t>(), 4, 4), Catch::Contains("empty source image"));
    CHECK_THROWS_WITH(feral::resize(image, 0, 4), Catch::Contains("0 x 4"));
}

TEST_CASE("integral, squared and tilted integral images equal cv2.integral3", "[vision][integral]") {
    const feral::test::Fixture fx(feral::test::fixture("vision/integral.txt"));
    const auto image = image_from<std::uint8_t>(fx.matrix("image"));
    const auto sum = feral::integral(image);
    const auto sqsum = feral::integral_squared(image);
    const auto tilted = feral::integral_tilted(image);
    CHECK(sum.cast<double>() == fx.matrix("sum"));
    CHECK(sqsum.cast<double>() == fx.matrix("sqsum"));
    CHECK(tilted.cast<double>() == fx.matrix("tilted"));
    // A box sum from the table equals the direct sum.
    std::int64_t direct = 0;
    for (int y = 2; y < 7; ++y)
        for (int x = 3; x < 10; ++x) direct += image(y, x);
    CHECK(feral::rect_sum(sum, 2, 3, 5, 7) == direct);
    CHECK_THROWS_WITH(feral::integral(feral::Image<std::uint8_t>(3, 3, 3)), Catch::Contains("3 channels"));
    CHECK_THROWS_WITH(feral::integral_tilted(feral::Image<std::uint8_t>(0, 3)), Catch::Contains("empty image"));
}
