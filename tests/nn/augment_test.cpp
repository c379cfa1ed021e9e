#include <feral/nn/augment.hpp>

#include <catch2/catch.hpp>

using feral::Index;
using feral::Matrix;
using namespace feral::nn;

namespace {
Matrix<float> gradient_images(Index n, Index channels, Index h, Index w) {
    Matrix<float> X(n, channels * h * w);
    for (Index i = 0; i < n; ++i)
        for (Index k = 0; k < X.cols(); ++k) X(i, k) = static_cast<float>((i + 1) * 1000 + k);
    return X;
}
std::vector<Index> iota_rows(Index n) {
    std::vector<Index> rows(static_cast<std::size_t>(n));
    for (Index i = 0; i < n; ++i) rows[static_cast<std::size_t>(i)] = i;
    return rows;
}
}  // namespace

TEST_CASE("A horizontal flip mirrors every row of every channel", "[nn][augment]") {
    const Index h = 5, w = 7;
    const Matrix<float> X = gradient_images(40, 2, h, w);
    Augmenter<float> flip({.horizontal_flip = true}, 3);
    Matrix<float> out;
    flip.apply(X, {2, h, w}, 0, iota_rows(40), out);
    int flipped = 0;
    for (Index i = 0; i < 40; ++i) {
        const bool is_flipped = flip.draw({2, h, w}, 0, i).flip_horizontal;
        flipped += is_flipped;
        for (Index c = 0; c < 2; ++c)
            for (Index r = 0; r < h; ++r)
                for (Index col = 0; col < w; ++col) {
                    const Index source = c * h * w + r * w + (is_flipped ? w - 1 - col : col);
                    REQUIRE(out(i, c * h * w + r * w + col) == X(i, source));
                }
    }
    CHECK(flipped > 5);
    CHECK(flipped < 35);
}

TEST_CASE("Only the enabled transforms are drawn, within their ranges", "[nn][augment]") {
    Augmenter<float> shift({.width_shift_range = 2.0}, 11);  // >= 1: pixels
    const feral::nn::Shape shape{1, 4, 6};
    const auto p = shift.draw(shape, 2, 5);
    CHECK(std::abs(p.shift_cols) <= 2.0);
    CHECK(p.shift_rows == 0.0);
    CHECK(p.rotation_degrees == 0.0);
}

TEST_CASE("Augmentation is determined by (seed, epoch, sample), not by batching or threads", "[nn][augment]") {
    const feral::nn::Shape shape{1, 12, 12};
    const Matrix<float> X = gradient_images(30, 1, 12, 12) / 5000.0f;
    AugmentConfig config{.rotation_range = 15, .width_shift_range = 0.1, .height_shift_range = 0.1,
                         .zoom_range = 0.1, .shear_range = 5, .horizontal_flip = true};
    Augmenter<float> augment(config, 9);
    Matrix<float> all, one_thread;
    augment.apply(X, shape, 4, iota_rows(30), all, 3);
    augment.apply(X, shape, 4, iota_rows(30), one_thread, 1);
    CHECK(all == one_thread);
    // The same sample in a batch of its own gets the same transform.
    Matrix<float> single;
    augment.apply(X.middleRows(17, 1), shape, 4, {17}, single, 1);
    CHECK(single.row(0) == all.row(17));
    // Another epoch, another seed: different images.
    Matrix<float> next_epoch, other_seed;
    augment.apply(X, shape, 5, iota_rows(30), next_epoch, 1);
    Augmenter<float>(config, 10).apply(X, shape, 4, iota_rows(30), other_seed, 1);
    CHECK_FALSE(next_epoch == all);
    CHECK_FALSE(other_seed == all);
    // Interpolation with nearest fill never leaves the input's range.
    CHECK(all.minCoeff() >= X.minCoeff() - 1e-4f);
    CHECK(all.maxCoeff() <= X.maxCoeff() + 1e-4f);
}

TEST_CASE("A zero-range augmenter is the identity and bad ranges are rejected", "[nn][augment]") {
    const Matrix<double> X = gradient_images(3, 1, 6, 6).cast<double>();
    Augmenter<double> none({}, 1);
    CHECK_FALSE(none.config().enabled());
    Matrix<double> out;
    none.apply(X, {1, 6, 6}, 0, iota_rows(3), out);
    CHECK(out == X);
    CHECK_THROWS_WITH(Augmenter<float>({.rotation_range = -1}), Catch::Contains("rotation -1"));
    CHECK_THROWS_WITH(Augmenter<float>({.zoom_range = 1.5}), Catch::Contains("zoom_range"));
    CHECK_THROWS_WITH(none.apply(X, {1, 5, 5}, 0, iota_rows(3), out), Catch::Contains("1x5x5"));
}
