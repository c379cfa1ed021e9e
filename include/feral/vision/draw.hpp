// feral/vision/draw.hpp — drawing boxes and text labels on RGB copies of images
// (for detection demos and reports).
//
//   auto canvas = feral::to_rgb(gray);                        // an RGB copy
//   feral::draw_rectangle(canvas, face, feral::Color{255, 0, 0}, 2);
//   feral::draw_text(canvas, face.x, face.y - 18, "happy 0.91", feral::Color{255, 255, 0}, 2);
//   feral::write_png("faces.png", canvas);
//
// Text uses the built-in 5x7 font (font.hpp) scaled by an integer factor; anything
// outside the image is clipped, so labels near the border are safe to draw.
#pragma once

#include "feral/core/error.hpp"
#include "feral/data/image.hpp"
#include "feral/data/image_io.hpp"
#include "feral/vision/font.hpp"
#include "feral/vision/rect.hpp"

#include <algorithm>
#include <cstdint>
#include <utility>
#include <string_view>

namespace feral {

struct Color {
    std::uint8_t r = 255, g = 255, b = 255;
};

/// An RGB copy of a gray, gray+alpha, RGB or RGBA 8-bit image.
inline Image<std::uint8_t> to_rgb(const Image<std::uint8_t>& image) {
    if (image.empty()) detail::fail("to_rgb: empty image");
    return convert_color(image, ColorMode::rgb);
}

namespace detail {
inline void check_rgb(const Image<std::uint8_t>& image, const char* where) {
    if (image.channels() != 3)
        fail(where, ": expected an RGB image (3 channels), got ", image.channels(), "; draw on to_rgb(image)");
}
inline void put_pixel(Image<std::uint8_t>& image, Index y, Index x, Color color) {
    if (y < 0 || x < 0 || y >= image.height() || x >= image.width()) return;
    image(y, x, 0) = color.r;
    image(y, x, 1) = color.g;
    image(y, x, 2) = color.b;
}
inline void fill_box(Image<std::uint8_t>& image, Index y0, Index x0, Index y1, Index x1, Color color) {
    for (Index y = std::max<Index>(y0, 0); y < std::min(y1, image.height()); ++y)
        for (Index x = std::max<Index>(x0, 0); x < std::min(x1, image.width()); ++x) put_pixel(image, y, x, color);
}
}  // namespace detail

/// Outline of `box` (inside its bounds), `thickness` pixels wide, clipped to the image.
inline void draw_rectangle(Image<std::uint8_t>& image, const Rect& box, Color color, int thickness = 1) {
    detail::check_rgb(image, "draw_rectangle");
    if (thickness < 1) detail::fail("draw_rectangle: thickness must be >= 1, got ", thickness);
    if (box.empty()) return;
    const Index x0 = box.x, y0 = box.y, x1 = static_cast<Index>(box.x) + box.width, y1 = static_cast<Index>(box.y) + box.height;
    const Index t = thickness;
    detail::fill_box(image, y0, x0, std::min(y0 + t, y1), x1, color);  // top
    detail::fill_box(image, std::max(y1 - t, y0), x0, y1, x1, color);  // bottom
    detail::fill_box(image, y0, x0, y1, std::min(x0 + t, x1), color);  // left
    detail::fill_box(image, y0, std::max(x1 - t, x0), y1, x1, color);  // right
}

/// Pixel size of `text` drawn at `scale` (width, height); '\n' starts a new line.
inline std::pair<int, int> text_size(std::string_view text, int scale = 1) {
    int lines = 1, longest = 0, current = 0;
    for (char c : text) {
        if (c == '\n') {
            ++lines;
            current = 0;
        } else {
            longest = std::max(longest, ++current);
        }
    }
    return {longest == 0 ? 0 : (longest * kFontAdvance - 1) * scale, (lines * kFontLine - 1) * scale};
}

/// Draws `text` with its top-left corner at (x, y), each font pixel a scale x scale square.
inline void draw_text(Image<std::uint8_t>& image, int x, int y, std::string_view text, Color color, int scale = 1) {
    detail::check_rgb(image, "draw_text");
    if (scale < 1) detail::fail("draw_text: scale must be >= 1, got ", scale);
    Index cx = x, cy = y;
    for (char c : text) {
        if (c == '\n') {
            cx = x;
            cy += static_cast<Index>(kFontLine) * scale;
            continue;
        }
        for (int row = 0; row < kFontHeight; ++row)
            for (int col = 0; col < kFontWidth; ++col)
                if (glyph_pixel(c, row, col))
                    detail::fill_box(image, cy + row * scale, cx + col * scale, cy + (row + 1) * scale,
                                     cx + (col + 1) * scale, color);
        cx += static_cast<Index>(kFontAdvance) * scale;
    }
}

/// A filled label: text on a background box, placed above `box` when it fits, else inside it.
inline void draw_label(Image<std::uint8_t>& image, const Rect& box, std::string_view text, Color text_color,
                       Color background, int scale = 1) {
    detail::check_rgb(image, "draw_label");
    const auto [w, h] = text_size(text, scale);
    const int pad = scale;
    const int top = box.y - h - 2 * pad >= 0 ? box.y - h - 2 * pad : box.y;
    detail::fill_box(image, top, box.x, top + h + 2 * pad, static_cast<Index>(box.x) + w + 2 * pad, background);
    draw_text(image, box.x + pad, top + pad, text, text_color, scale);
}

}  // namespace feral
