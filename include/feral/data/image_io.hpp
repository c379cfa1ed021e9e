// feral/data/image_io.hpp — reading and writing image files (PNG, JPEG, BMP, ...).
//
// Decoding and encoding use stb_image / stb_image_write, compiled once into Debian's
// libstb (linked by the feral target), so including this header stays cheap.
//
//   auto face = feral::read_image("face.png");                    // channels as stored
//   auto gray = feral::read_image("photo.jpg", feral::ColorMode::gray);
//   feral::write_png("out.png", gray);                             // refuses to overwrite
//   feral::write_png("out.png", gray, feral::Overwrite::yes);
//
// Grayscale conversion uses ITU-R BT.601 luma weights (0.299 R + 0.587 G + 0.114 B,
// rounded), as PIL's convert('L') and OpenCV's COLOR_RGB2GRAY do.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/serialize.hpp"
#include "feral/data/image.hpp"

#include <stb_image.h>
#include <stb_image_write.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace feral {

enum class ColorMode {
    as_stored,  ///< keep the file's channels (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA)
    gray,       ///< convert to one luma channel (alpha dropped)
    rgb,        ///< convert to three channels
};

namespace detail {
inline std::vector<unsigned char> read_file_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail<io_error>("cannot open image file '", path.string(), "'");
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::uint8_t luma(std::uint8_t r, std::uint8_t g, std::uint8_t b) {
    // Integer BT.601 with rounding: (299 R + 587 G + 114 B + 500) / 1000.
    return static_cast<std::uint8_t>((299u * r + 587u * g + 114u * b + 500u) / 1000u);
}

inline void check_writable(const std::filesystem::path& path, Overwrite overwrite, const Image<std::uint8_t>& image,
                           const char* where) {
    if (image.empty() || image.height() == 0 || image.width() == 0)
        fail(where, ": cannot write an empty image to '", path.string(), "'");
    if (image.channels() < 1 || image.channels() > 4)
        fail(where, ": ", image.channels(), " channels cannot be written (1 to 4 supported)");
    if (overwrite == Overwrite::no && std::filesystem::exists(path))
        fail<io_error>(where, ": refusing to overwrite existing file '", path.string(),
                       "' (pass Overwrite::yes to replace it)");
}
}  // namespace detail

/// Converts an interleaved 8-bit image to the requested channel layout.
inline Image<std::uint8_t> convert_color(const Image<std::uint8_t>& in, ColorMode mode) {
    const Index c = in.channels();
    if (mode == ColorMode::as_stored) return in;
    if (mode == ColorMode::gray) {
        if (c == 1) return in;
        Image<std::uint8_t> out(in.height(), in.width(), 1);
        const std::uint8_t* p = in.data();
        for (Index i = 0; i < in.height() * in.width(); ++i, p += c)
            out.data()[i] = c >= 3 ? detail::luma(p[0], p[1], p[2]) : p[0];
        return out;
    }
    if (c == 3) return in;
    Image<std::uint8_t> out(in.height(), in.width(), 3);
    const std::uint8_t* p = in.data();
    for (Index i = 0; i < in.height() * in.width(); ++i, p += c)
        for (int k = 0; k < 3; ++k) out.data()[i * 3 + k] = c >= 3 ? p[k] : p[0];
    return out;
}

/// Decodes an image held in memory; `source` names it in error messages.
inline Image<std::uint8_t> decode_image(const unsigned char* bytes, std::size_t size, const std::string& source,
                                        ColorMode mode = ColorMode::as_stored) {
    if (size == 0) detail::fail<format_error>("image file '", source, "' is empty");
    int width = 0, height = 0, channels = 0;
    // stb decodes 1-channel files to 1 channel and can convert to 3 itself; other
    // conversions use our exact luma rule.
    const int wanted = mode == ColorMode::rgb ? 3 : 0;
    unsigned char* pixels =
        stbi_load_from_memory(bytes, static_cast<int>(size), &width, &height, &channels, wanted);
    if (pixels == nullptr)
        detail::fail<format_error>("cannot decode image file '", source, "': ", stbi_failure_reason());
    const int stored = wanted ? wanted : channels;
    std::vector<std::uint8_t> data(pixels, pixels + static_cast<std::size_t>(width) * height * stored);
    stbi_image_free(pixels);
    return convert_color(Image<std::uint8_t>(height, width, stored, std::move(data)), mode);
}

/// Reads an image file. Throws io_error if it cannot be opened, format_error if it
/// is not a decodable image; both name the file.
inline Image<std::uint8_t> read_image(const std::filesystem::path& path, ColorMode mode = ColorMode::as_stored) {
    const auto bytes = detail::read_file_bytes(path);
    return decode_image(bytes.data(), bytes.size(), path.string(), mode);
}

/// Writes a PNG (lossless). Refuses to replace an existing file unless overwrite is Overwrite::yes.
inline void write_png(const std::filesystem::path& path, const Image<std::uint8_t>& image,
                      Overwrite overwrite = Overwrite::no) {
    detail::check_writable(path, overwrite, image, "write_png");
    const int ok = stbi_write_png(path.c_str(), static_cast<int>(image.width()), static_cast<int>(image.height()),
                                  static_cast<int>(image.channels()), image.data(),
                                  static_cast<int>(image.width() * image.channels()));
    if (!ok) detail::fail<io_error>("write_png: cannot write '", path.string(), "'");
}

/// Writes a JPEG of the given quality (1..100).
inline void write_jpeg(const std::filesystem::path& path, const Image<std::uint8_t>& image, int quality = 90,
                       Overwrite overwrite = Overwrite::no) {
    if (quality < 1 || quality > 100) detail::fail("write_jpeg: quality must be in 1..100, got ", quality);
    detail::check_writable(path, overwrite, image, "write_jpeg");
    const int ok = stbi_write_jpg(path.c_str(), static_cast<int>(image.width()), static_cast<int>(image.height()),
                                  static_cast<int>(image.channels()), image.data(), quality);
    if (!ok) detail::fail<io_error>("write_jpeg: cannot write '", path.string(), "'");
}

/// Encodes a PNG into memory (for embedding in HTML reports as data: URIs).
inline std::vector<unsigned char> encode_png(const Image<std::uint8_t>& image) {
    if (image.empty()) detail::fail("encode_png: empty image");
    std::vector<unsigned char> out;
    auto append = [](void* context, void* data, int size) {
        auto* v = static_cast<std::vector<unsigned char>*>(context);
        const auto* p = static_cast<const unsigned char*>(data);
        v->insert(v->end(), p, p + size);
    };
    const int ok = stbi_write_png_to_func(append, &out, static_cast<int>(image.width()), static_cast<int>(image.height()),
                                          static_cast<int>(image.channels()), image.data(),
                                          static_cast<int>(image.width() * image.channels()));
    if (!ok) detail::fail<io_error>("encode_png: encoding failed");
    return out;
}

}  // namespace feral
