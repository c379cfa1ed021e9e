// feral/vision/rect.hpp — an axis-aligned pixel rectangle (detections, drawing).
//
// (x, y) is the top-left pixel (x = column, y = row, as OpenCV's cv::Rect), and the
// rectangle covers columns [x, x + width) and rows [y, y + height).
#pragma once

#include <algorithm>
#include <ostream>

namespace feral {

struct Rect {
    int x = 0;
    int y = 0;
    int width = 0;
    int height = 0;

    [[nodiscard]] long long area() const { return static_cast<long long>(width) * height; }
    [[nodiscard]] bool empty() const { return width <= 0 || height <= 0; }
    friend bool operator==(const Rect&, const Rect&) = default;
};

/// The overlap of two rectangles (empty when they do not intersect).
inline Rect intersection(const Rect& a, const Rect& b) {
    const int x0 = std::max(a.x, b.x), y0 = std::max(a.y, b.y);
    const int x1 = std::min(a.x + a.width, b.x + b.width), y1 = std::min(a.y + a.height, b.y + b.height);
    if (x1 <= x0 || y1 <= y0) return Rect{};
    return Rect{x0, y0, x1 - x0, y1 - y0};
}

/// Intersection over union in [0, 1] (0 when both are empty).
inline double iou(const Rect& a, const Rect& b) {
    const long long common = intersection(a, b).area();
    const long long total = a.area() + b.area() - common;
    return total > 0 ? static_cast<double>(common) / static_cast<double>(total) : 0.0;
}

inline std::ostream& operator<<(std::ostream& out, const Rect& r) {
    return out << "Rect{x " << r.x << ", y " << r.y << ", " << r.width << " x " << r.height << "}";
}

}  // namespace feral
