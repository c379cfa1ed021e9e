// feral/vision/equalize.hpp — histogram equalisation of 8-bit grayscale images,
// exactly as OpenCV's cv::equalizeHist:
//   lut[v] = round(255 * (cdf(v) - cdf(v_min)) / (N - count(v_min))) for v > v_min,
//   lut[v_min] = 0, where v_min is the darkest value present (a flat image stays as is).
#pragma once

#include "feral/core/error.hpp"
#include "feral/data/image.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>

namespace feral {

inline Image<std::uint8_t> equalize_hist(const Image<std::uint8_t>& image) {
    if (image.channels() != 1)
        detail::fail("equalize_hist: expected a grayscale image, got ", image.channels(), " channels");
    if (image.empty()) detail::fail("equalize_hist: empty image");
    std::array<long long, 256> hist{};
    for (std::uint8_t v : image.pixels()) ++hist[v];
    int first = 0;
    while (hist[static_cast<std::size_t>(first)] == 0) ++first;
    const long long total = image.size();
    Image<std::uint8_t> out = image;
    if (hist[static_cast<std::size_t>(first)] == total) return out;  // one grey level: unchanged
    const float scale = 255.0f / static_cast<float>(total - hist[static_cast<std::size_t>(first)]);
    std::array<std::uint8_t, 256> lut{};
    long long sum = 0;
    for (int v = first + 1; v < 256; ++v) {
        sum += hist[static_cast<std::size_t>(v)];
        const long rounded = std::lrint(static_cast<float>(sum) * scale);  // saturate_cast<uchar>(float)
        lut[static_cast<std::size_t>(v)] = static_cast<std::uint8_t>(std::clamp<long>(rounded, 0, 255));
    }
    for (auto& v : out.pixels()) v = lut[v];
    return out;
}

}  // namespace feral
