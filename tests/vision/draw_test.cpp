// Tests for feral/vision/draw.hpp, font.hpp and equalize.hpp.
#include "feral/vision/draw.hpp"
#include "feral/vision/equalize.hpp"
#include "feral/vision/font.hpp"

#include "feral/data/image_io.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdint>

namespace {

feral::Image<std::uint8_t> gray_from(const Eigen::MatrixXd& m) {
    feral::Image<std::uint8_t> image(m.rows(), m.cols());
    for (Eigen::Index r = 0; r < m.rows(); ++r)
        for (Eigen::Index c = 0; c < m.cols(); ++c) image(r, c) = static_cast<std::uint8_t>(m(r, c));
    return image;
}

bool is_color(const feral::Image<std::uint8_t>& image, feral::Index y, feral::Index x, feral::Color c) {
    return image(y, x, 0) == c.r && image(y, x, 1) == c.g && image(y, x, 2) == c.b;
}

}  // namespace

TEST_CASE("equalize_hist equals cv2.equalizeHist", "[vision][equalize]") {
    const feral::test::Fixture fx(feral::test::fixture("vision/equalize.txt"));
    for (const std::string name : {"narrow", "skewed"}) {
        INFO(name);
        const auto out = feral::equalize_hist(gray_from(fx.matrix(name)));
        CHECK(out == gray_from(fx.matrix(name + "_eq")));
    }
    const feral::Image<std::uint8_t> flat(5, 7, 1, 42);
    CHECK(feral::equalize_hist(flat) == flat);
    CHECK_THROWS_WITH(feral::equalize_hist(feral::Image<std::uint8_t>(2, 2, 3)), Catch::Contains("3 channels"));
    CHECK_THROWS_AS(feral::equalize_hist(feral::Image<std::uint8_t>()), feral::invalid_argument);
}

TEST_CASE("the built-in font has a glyph for every printable character", "[vision][draw]") {
    for (char c = 33; c < 127; ++c) {
        int set = 0;
        for (int r = 0; r < feral::kFontHeight; ++r)
            for (int col = 0; col < feral::kFontWidth; ++col) set += feral::glyph_pixel(c, r, col) ? 1 : 0;
        INFO("character '" << c << "'");
        CHECK(set > 0);
    }
    for (int r = 0; r < feral::kFontHeight; ++r)
        for (int col = 0; col < feral::kFontWidth; ++col) CHECK_FALSE(feral::glyph_pixel(' ', r, col));
    // 'I' is a vertical bar with serifs: the middle column is fully set.
    for (int r = 0; r < feral::kFontHeight; ++r) CHECK(feral::glyph_pixel('I', r, 2));
    // Unknown characters draw as '?'.
    CHECK(feral::glyph_pixel('\x01', 0, 1) == feral::glyph_pixel('?', 0, 1));
}

TEST_CASE("rectangles and scaled text land on the right pixels and are clipped", "[vision][draw]") {
    const feral::Image<std::uint8_t> gray(40, 60, 1, 10);
    auto canvas = feral::to_rgb(gray);
    REQUIRE(canvas.channels() == 3);
    const feral::Color red{255, 0, 0}, yellow{255, 255, 0};
    feral::draw_rectangle(canvas, feral::Rect{5, 4, 20, 10}, red, 2);
    CHECK(is_color(canvas, 4, 5, red));     // top-left corner
    CHECK(is_color(canvas, 5, 24, red));    // inside the right edge (2 px thick)
    CHECK(is_color(canvas, 13, 15, red));   // bottom edge
    CHECK(is_color(canvas, 8, 15, feral::Color{10, 10, 10}));  // interior untouched
    CHECK(is_color(canvas, 14, 15, feral::Color{10, 10, 10})); // just below
    // Partly outside: clipped, no throw.
    feral::draw_rectangle(canvas, feral::Rect{50, 30, 30, 30}, red);
    CHECK(is_color(canvas, 30, 59, red));
    // 'I' at scale 2: the middle column of the glyph covers x in [4, 6) from x = 0.
    feral::draw_text(canvas, 0, 20, "I", yellow, 2);
    for (int y = 20; y < 20 + 7 * 2; ++y) CHECK(is_color(canvas, y, 4, yellow));
    CHECK_FALSE(is_color(canvas, 27, 0, yellow));
    const auto [w, h] = feral::text_size("ab\ncde", 3);
    CHECK(w == (3 * 6 - 1) * 3);
    CHECK(h == (2 * 8 - 1) * 3);
    feral::draw_text(canvas, 55, 35, "clipped text", yellow, 3);  // mostly outside
    feral::draw_label(canvas, feral::Rect{10, 25, 20, 10}, "ok", yellow, red);
    CHECK_THROWS_WITH(feral::draw_text(canvas, 0, 0, "x", yellow, 0), Catch::Contains("scale"));
    CHECK_THROWS_WITH(feral::draw_rectangle(canvas, feral::Rect{0, 0, 5, 5}, red, 0), Catch::Contains("thickness"));
    auto gray_copy = gray;
    CHECK_THROWS_WITH(feral::draw_rectangle(gray_copy, feral::Rect{0, 0, 5, 5}, red), Catch::Contains("to_rgb"));
    // The annotated image round-trips through PNG.
    const auto dir = feral::test::scratch_dir("draw");
    feral::write_png(dir / "annotated.png", canvas);
    CHECK(feral::read_image(dir / "annotated.png") == canvas);
}
