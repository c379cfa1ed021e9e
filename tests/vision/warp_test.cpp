// Tests for feral/vision/warp.hpp against Keras' apply_affine_transform (scipy.ndimage).
#include "feral/vision/warp.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace {

// A plain loop (Eigen's AVX-512 maxCoeff reduction trips a GCC 12 false warning).
float max_abs_diff(const feral::Matrix<float>& a, const feral::Matrix<float>& b) {
    float worst = 0;
    for (Eigen::Index i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a.data()[i] - b.data()[i]));
    return worst;
}

feral::AffineParams params_from_row(const Eigen::MatrixXd& p, feral::FillMode& mode, float& cval) {
    feral::AffineParams params;
    params.rotation_degrees = p(0);
    params.shift_rows = p(1);
    params.shift_cols = p(2);
    params.shear_degrees = p(3);
    params.zoom_rows = p(4);
    params.zoom_cols = p(5);
    mode = static_cast<feral::FillMode>(static_cast<int>(p(6)));
    cval = static_cast<float>(p(7));
    params.flip_horizontal = p(8) != 0;
    return params;
}

}  // namespace

TEST_CASE("apply_affine equals Keras apply_affine_transform for every fill mode", "[vision][warp]") {
    const feral::test::Fixture fx(feral::test::fixture("vision/warp.txt"));
    const auto image = fx.as<float>("image");
    const auto n_cases = static_cast<int>(fx.scalar("n_cases"));
    REQUIRE(n_cases >= 8);
    for (int k = 0; k < n_cases; ++k) {
        feral::FillMode mode{};
        float cval = 0;
        const auto params = params_from_row(fx.matrix("params_" + std::to_string(k)), mode, cval);
        const auto expected = fx.as<float>("expected_" + std::to_string(k));
        feral::Matrix<float> out(image.rows(), image.cols());
        feral::apply_affine(image.data(), out.data(), image.rows(), image.cols(), params, mode, cval);
        INFO("case " << k << " mode " << feral::to_string(mode));
        // float interpolation of values up to 255: a few ulps of 255.
        CHECK(max_abs_diff(out, expected) <= 2e-4f);
    }
}

TEST_CASE("the identity warp copies and a horizontal flip mirrors", "[vision][warp]") {
    std::vector<float> src(6 * 5), dst(6 * 5), flipped(6 * 5);
    for (std::size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i * i % 17);
    feral::warp_affine(src.data(), dst.data(), 6, 5, feral::AffineMatrix{});
    CHECK(dst == src);
    feral::AffineParams flip;
    flip.flip_horizontal = true;
    feral::apply_affine(src.data(), dst.data(), 6, 5, flip);
    feral::flip_horizontal(src.data(), flipped.data(), 6, 5);
    CHECK(dst == flipped);
    for (int r = 0; r < 6; ++r)
        for (int c = 0; c < 5; ++c) CHECK(flipped[r * 5 + c] == src[r * 5 + (4 - c)]);
    feral::flip_horizontal(flipped.data(), flipped.data(), 6, 5);  // in place, back again
    CHECK(flipped == src);
}

TEST_CASE("an integer shift moves pixels and fills the border by mode", "[vision][warp]") {
    // 1 x 4 row [1 2 4 8]; output c reads input c + 1.5 (half-way samples).
    const std::vector<float> src = {1, 2, 4, 8};
    std::vector<float> dst(4);
    const auto m = feral::shift_matrix(0, 1.5);
    feral::warp_affine(src.data(), dst.data(), 1, 4, m, feral::FillMode::nearest);
    CHECK(dst == std::vector<float>{3, 6, 8, 8});
    feral::warp_affine(src.data(), dst.data(), 1, 4, m, feral::FillMode::reflect);
    CHECK(dst == std::vector<float>{3, 6, 8, 6});
    feral::warp_affine(src.data(), dst.data(), 1, 4, m, feral::FillMode::constant, -1);
    CHECK(dst == std::vector<float>{3, 6, -1, -1});
}

TEST_CASE("random_affine_params is reproducible and stays inside its ranges", "[vision][warp]") {
    feral::AugmentRanges ranges;
    ranges.rotation_degrees = 10;
    ranges.width_shift = 0.1;
    ranges.height_shift = 3;
    ranges.shear_degrees = 5;
    ranges.zoom = {0.9, 1.2};
    ranges.horizontal_flip = true;
    feral::Random a(5), b(5);
    int flips = 0;
    for (int i = 0; i < 200; ++i) {
        const auto p = feral::random_affine_params(ranges, 48, 40, a);
        const auto q = feral::random_affine_params(ranges, 48, 40, b);
        CHECK(p.rotation_degrees == q.rotation_degrees);
        CHECK(p.zoom_cols == q.zoom_cols);
        CHECK(std::abs(p.rotation_degrees) <= 10);
        CHECK(std::abs(p.shift_cols) <= 4.0);  // 0.1 * width 40
        CHECK(std::abs(p.shift_rows) <= 3.0);  // pixels
        CHECK(std::abs(p.shear_degrees) <= 5);
        CHECK(p.zoom_rows >= 0.9);
        CHECK(p.zoom_rows <= 1.2);
        flips += p.flip_horizontal ? 1 : 0;
    }
    CHECK(flips > 60);
    CHECK(flips < 140);
}

TEST_CASE("warp functions reject bad sizes, overlapping buffers, NaN matrices and bad ranges", "[vision][warp]") {
    std::vector<float> buffer(16);
    CHECK_THROWS_AS(feral::warp_affine(buffer.data(), buffer.data(), 4, 4, feral::AffineMatrix{}), feral::invalid_argument);
    std::vector<float> out(16);
    CHECK_THROWS_AS(feral::warp_affine(buffer.data(), out.data(), 0, 4, feral::AffineMatrix{}), feral::invalid_argument);
    feral::AffineMatrix nan_matrix;
    nan_matrix.m[2] = std::nan("");
    CHECK_THROWS_WITH(feral::warp_affine(buffer.data(), out.data(), 4, 4, nan_matrix),
                      Catch::Contains("warp_affine") && Catch::Contains("nan"));
    CHECK_THROWS_WITH(feral::parse_fill_mode("wrapp"), Catch::Contains("wrapp"));
    CHECK(feral::parse_fill_mode("reflect") == feral::FillMode::reflect);
    feral::AugmentRanges bad;
    bad.zoom = {0.0, 1.0};
    feral::Random rng(1);
    CHECK_THROWS_AS(feral::random_affine_params(bad, 8, 8, rng), feral::invalid_argument);
    feral::Image<float> rgb(4, 4, 3);
    CHECK_THROWS_AS(feral::apply_affine(rgb, feral::AffineParams{}), feral::invalid_argument);
}

TEST_CASE("augment_batch warps every row reproducibly for any thread count", "[vision][warp]") {
    feral::Random rng(11);
    feral::Matrix<float> images(9, 12 * 10);
    for (Eigen::Index i = 0; i < images.size(); ++i) images.data()[i] = rng.uniform_float() * 255.0f;
    feral::AugmentRanges ranges;
    ranges.rotation_degrees = 15;
    ranges.width_shift = 0.1;
    ranges.zoom = {0.9, 1.1};
    ranges.horizontal_flip = true;
    feral::Matrix<float> one, many;
    feral::augment_batch(images, feral::ImageShape{1, 12, 10}, one, ranges, 42, feral::FillMode::reflect, 0.0f, 1);
    feral::augment_batch(images, feral::ImageShape{1, 12, 10}, many, ranges, 42, feral::FillMode::reflect, 0.0f, 4);
    CHECK(one == many);
    REQUIRE(one.rows() == 9);
    // Row 4 equals a single warp with the parameters of stream 4.
    feral::Random stream = feral::Random(42).fork(4);
    const auto params = feral::random_affine_params(ranges, 12, 10, stream);
    std::vector<float> expected(120);
    feral::apply_affine(images.row(4).data(), expected.data(), 12, 10, params, feral::FillMode::reflect);
    CHECK(std::equal(expected.begin(), expected.end(), one.row(4).data()));
    feral::Matrix<float> other;
    feral::augment_batch(images, feral::ImageShape{1, 12, 10}, other, ranges, 43);
    CHECK(other != one);
    CHECK_THROWS_WITH(feral::augment_batch(images, feral::ImageShape{1, 11, 10}, other, ranges, 1), Catch::Contains("needs 110"));
    feral::AugmentRanges bad;
    bad.rotation_degrees = -1;
    CHECK_THROWS_AS(feral::augment_batch(images, feral::ImageShape{1, 12, 10}, other, bad, 1), feral::invalid_argument);
}
