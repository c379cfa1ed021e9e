// feral/data/image.hpp — one image in memory: height x width x channels, interleaved.
//
// Layout: pixel (y, x), channel c lives at data()[(y * width + x) * channels + c],
// i.e. rows top to bottom, pixels left to right, channels interleaved (as stb_image
// and PNG store them). A grayscale image (channels == 1) is therefore its pixels
// row by row, exactly one row of a data set's PixelMatrix.
//
// Pixel is std::uint8_t for decoded files and float for processed images.
//
// Example:
//   feral::Image<> face(48, 48);          // grayscale, zero-filled
//   face(10, 20) = 255;                    // y = 10, x = 20
//   feral::Image<> rgb(48, 48, 3);
//   rgb(0, 0, 2) = 128;                    // blue channel of the top-left pixel
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"

#include <cstdint>
#include <vector>

namespace feral {

template <class Pixel = std::uint8_t>
class Image {
public:
    using value_type = Pixel;

    Image() = default;

    /// A height x width image of `channels` channels, every value `fill`.
    Image(Index height, Index width, Index channels = 1, Pixel fill = Pixel{})
        : height_(height), width_(width), channels_(channels) {
        if (height < 0 || width < 0 || channels < 1)
            detail::fail("Image: invalid size ", height, " x ", width, " x ", channels);
        data_.assign(static_cast<std::size_t>(height * width * channels), fill);
    }

    /// Wraps a copy of `pixels` (height * width * channels values, interleaved).
    Image(Index height, Index width, Index channels, std::vector<Pixel> pixels)
        : height_(height), width_(width), channels_(channels), data_(std::move(pixels)) {
        if (height < 0 || width < 0 || channels < 1 ||
            static_cast<Index>(data_.size()) != height * width * channels)
            detail::fail("Image: ", data_.size(), " values do not fill ", height, " x ", width, " x ", channels);
    }

    [[nodiscard]] Index height() const { return height_; }
    [[nodiscard]] Index width() const { return width_; }
    [[nodiscard]] Index channels() const { return channels_; }
    [[nodiscard]] Index size() const { return static_cast<Index>(data_.size()); }
    [[nodiscard]] bool empty() const { return data_.empty(); }

    Pixel& operator()(Index y, Index x, Index c = 0) { return data_[static_cast<std::size_t>((y * width_ + x) * channels_ + c)]; }
    const Pixel& operator()(Index y, Index x, Index c = 0) const {
        return data_[static_cast<std::size_t>((y * width_ + x) * channels_ + c)];
    }

    Pixel* data() { return data_.data(); }
    const Pixel* data() const { return data_.data(); }
    std::vector<Pixel>& pixels() { return data_; }
    const std::vector<Pixel>& pixels() const { return data_; }

    friend bool operator==(const Image&, const Image&) = default;

private:
    Index height_ = 0;
    Index width_ = 0;
    Index channels_ = 1;
    std::vector<Pixel> data_;
};

}  // namespace feral
