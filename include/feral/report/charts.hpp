// feral/report/charts.hpp — the pictures of a results report, drawn as SVG text
// (charts) or as RGB images (pixel heat maps). No plotting library needed: the
// geometry is simple and SVG scales crisply in any browser.
//
//   confusion_matrix_svg   heat map of a confusion matrix, counts in the cells,
//                          colour = row-normalised rate (recall per true class)
//   line_chart_svg         training/validation curves per epoch
//   bar_chart_svg          grouped bars (per-class precision / recall / F1)
//   face_grid_svg          sample faces with predicted and true labels,
//                          framed green when right and red when wrong
//   heatmap_image          a values grid (e.g. 48x48 pixel importances) coloured
//                          with the viridis map, scaled up for viewing
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"
#include "feral/data/image.hpp"
#include "feral/report/html_report.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace feral {

namespace detail {
inline std::string svg_number(double v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f", v);
    return buffer;
}

/// Viridis colour map sampled at 9 points (matplotlib's values), linearly interpolated; t in [0, 1].
inline std::array<std::uint8_t, 3> viridis(double t) {
    static constexpr std::uint8_t anchors[9][3] = {{68, 1, 84},    {71, 44, 122},  {59, 81, 139},
                                                   {44, 113, 142}, {33, 144, 141}, {39, 173, 129},
                                                   {92, 200, 99},  {170, 220, 50}, {253, 231, 37}};
    t = std::clamp(std::isfinite(t) ? t : 0.0, 0.0, 1.0) * 8.0;
    const int i = std::min(static_cast<int>(t), 7);
    const double f = t - i;
    std::array<std::uint8_t, 3> rgb{};
    for (int c = 0; c < 3; ++c)
        rgb[static_cast<std::size_t>(c)] = static_cast<std::uint8_t>(std::lround(anchors[i][c] * (1 - f) + anchors[i + 1][c] * f));
    return rgb;
}

inline std::string rgb_hex(const std::array<std::uint8_t, 3>& rgb) {
    char buffer[8];
    std::snprintf(buffer, sizeof buffer, "#%02x%02x%02x", rgb[0], rgb[1], rgb[2]);
    return buffer;
}

inline std::string svg_text(double x, double y, std::string_view text, std::string_view extra = {}) {
    return "<text x=\"" + svg_number(x) + "\" y=\"" + svg_number(y) + "\" " + std::string(extra) + ">" +
           html_escape(text) + "</text>";
}

inline const char* series_colour(std::size_t i) {
    static constexpr const char* palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                              "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};
    return palette[i % 8];
}
}  // namespace detail

/// Confusion matrix heat map: rows are true classes, columns predicted classes.
inline std::string confusion_matrix_svg(const Eigen::Ref<const Matrix<Index>>& counts,
                                        const std::vector<std::string>& class_names, std::string_view title) {
    const auto k = counts.rows();
    if (k == 0 || counts.cols() != k || static_cast<Index>(class_names.size()) != k)
        detail::fail("confusion_matrix_svg: a ", counts.rows(), " x ", counts.cols(), " matrix for ",
                     class_names.size(), " class names");
    const double cell = 46, left = 90, top = 40;
    const double width = left + cell * static_cast<double>(k) + 20, height = top + cell * static_cast<double>(k) + 60;
    std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + detail::svg_number(width) + "\" height=\"" +
                    detail::svg_number(height) + "\" font-family=\"sans-serif\" font-size=\"11\">";
    s += detail::svg_text(width / 2, 16, title, "text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\"");
    for (Index i = 0; i < k; ++i) {
        const double row_total = static_cast<double>(counts.row(i).sum());
        for (Index j = 0; j < k; ++j) {
            const double rate = row_total > 0 ? static_cast<double>(counts(i, j)) / row_total : 0.0;
            const double x = left + cell * static_cast<double>(j), y = top + cell * static_cast<double>(i);
            s += "<rect x=\"" + detail::svg_number(x) + "\" y=\"" + detail::svg_number(y) + "\" width=\"" +
                 detail::svg_number(cell) + "\" height=\"" + detail::svg_number(cell) + "\" fill=\"" +
                 detail::rgb_hex(detail::viridis(rate)) + "\"><title>true " + html_escape(class_names[static_cast<std::size_t>(i)]) +
                 ", predicted " + html_escape(class_names[static_cast<std::size_t>(j)]) + ": " + std::to_string(counts(i, j)) +
                 "</title></rect>";
            s += detail::svg_text(x + cell / 2, y + cell / 2 + 4, std::to_string(counts(i, j)),
                                  std::string("text-anchor=\"middle\" fill=\"") + (rate > 0.55 ? "#000" : "#fff") + "\"");
        }
        s += detail::svg_text(left - 6, top + cell * (static_cast<double>(i) + 0.5) + 4, class_names[static_cast<std::size_t>(i)],
                              "text-anchor=\"end\"");
        const double cx = left + cell * (static_cast<double>(i) + 0.5), cy = top + cell * static_cast<double>(k) + 8;
        s += "<text transform=\"translate(" + detail::svg_number(cx) + "," + detail::svg_number(cy) +
             ") rotate(35)\">" + html_escape(class_names[static_cast<std::size_t>(i)]) + "</text>";
    }
    s += detail::svg_text(8, top - 8, "true \xE2\x86\x93 / predicted \xE2\x86\x92", "font-size=\"10\" fill=\"#555\"");
    return s + "</svg>";
}

/// One named series of y values (x = 1, 2, ... e.g. epochs).
struct ChartSeries {
    std::string name;
    std::vector<double> values;
    bool dashed = false;
};

/// A line chart of several series over a shared x axis (1-based index).
inline std::string line_chart_svg(const std::vector<ChartSeries>& series, std::string_view title,
                                  std::string_view x_label, std::string_view y_label) {
    std::size_t points = 0;
    double low = INFINITY, high = -INFINITY;
    for (const auto& s : series)
        for (double v : s.values)
            if (std::isfinite(v)) low = std::min(low, v), high = std::max(high, v), points = std::max(points, s.values.size());
    if (points == 0) detail::fail("line_chart_svg: '", title, "' has no finite values to draw");
    if (high - low < 1e-12) high = low + 1.0;
    const double pad = 0.05 * (high - low);
    low -= pad, high += pad;
    const double width = 460, height = 280, left = 56, right = 120, top = 28, bottom = 40;
    const double plot_w = width - left - right, plot_h = height - top - bottom;
    auto px = [&](std::size_t i) { return left + (points <= 1 ? plot_w / 2 : plot_w * static_cast<double>(i) / static_cast<double>(points - 1)); };
    auto py = [&](double v) { return top + plot_h * (1 - (v - low) / (high - low)); };

    std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + detail::svg_number(width) + "\" height=\"" +
                    detail::svg_number(height) + "\" font-family=\"sans-serif\" font-size=\"11\">";
    s += detail::svg_text(left + plot_w / 2, 16, title, "text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\"");
    s += "<rect x=\"" + detail::svg_number(left) + "\" y=\"" + detail::svg_number(top) + "\" width=\"" +
         detail::svg_number(plot_w) + "\" height=\"" + detail::svg_number(plot_h) + "\" fill=\"none\" stroke=\"#999\"/>";
    for (int t = 0; t <= 4; ++t) {
        const double v = low + (high - low) * t / 4.0;
        char label[32];
        std::snprintf(label, sizeof label, "%.3g", v);
        s += detail::svg_text(left - 4, py(v) + 4, label, "text-anchor=\"end\"");
        s += "<line x1=\"" + detail::svg_number(left) + "\" x2=\"" + detail::svg_number(left + plot_w) + "\" y1=\"" +
             detail::svg_number(py(v)) + "\" y2=\"" + detail::svg_number(py(v)) + "\" stroke=\"#eee\"/>";
    }
    const std::size_t step = std::max<std::size_t>(1, points / 10);
    for (std::size_t i = 0; i < points; i += step)
        s += detail::svg_text(px(i), top + plot_h + 14, std::to_string(i + 1), "text-anchor=\"middle\"");
    s += detail::svg_text(left + plot_w / 2, height - 6, x_label, "text-anchor=\"middle\"");
    s += "<text transform=\"translate(12," + detail::svg_number(top + plot_h / 2) + ") rotate(-90)\" text-anchor=\"middle\">" +
         html_escape(y_label) + "</text>";
    for (std::size_t k = 0; k < series.size(); ++k) {
        std::string path;
        for (std::size_t i = 0; i < series[k].values.size(); ++i) {
            if (!std::isfinite(series[k].values[i])) continue;
            path += (path.empty() ? "M" : " L") + detail::svg_number(px(i)) + "," + detail::svg_number(py(series[k].values[i]));
        }
        s += "<path d=\"" + path + "\" fill=\"none\" stroke-width=\"2\" stroke=\"" + detail::series_colour(k) + "\"" +
             (series[k].dashed ? " stroke-dasharray=\"5,3\"" : "") + "/>";
        const double ly = top + 14 * static_cast<double>(k) + 6;
        s += "<line x1=\"" + detail::svg_number(left + plot_w + 8) + "\" x2=\"" + detail::svg_number(left + plot_w + 28) +
             "\" y1=\"" + detail::svg_number(ly) + "\" y2=\"" + detail::svg_number(ly) + "\" stroke-width=\"2\" stroke=\"" +
             detail::series_colour(k) + "\"" + (series[k].dashed ? " stroke-dasharray=\"5,3\"" : "") + "/>";
        s += detail::svg_text(left + plot_w + 32, ly + 4, series[k].name);
    }
    return s + "</svg>";
}

/// Grouped bars: one group per category, one bar per series; values in [0, max_value].
inline std::string bar_chart_svg(const std::vector<std::string>& categories, const std::vector<ChartSeries>& series,
                                 std::string_view title, double max_value = 1.0) {
    for (const auto& s : series)
        if (s.values.size() != categories.size())
            detail::fail("bar_chart_svg: series '", s.name, "' has ", s.values.size(), " values for ", categories.size(),
                         " categories");
    if (categories.empty() || series.empty() || !(max_value > 0)) detail::fail("bar_chart_svg: nothing to draw for '", title, "'");
    const double group = 16.0 * static_cast<double>(series.size()) + 14, left = 44, top = 28, plot_h = 180;
    const double width = left + group * static_cast<double>(categories.size()) + 110, height = top + plot_h + 60;
    std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + detail::svg_number(width) + "\" height=\"" +
                    detail::svg_number(height) + "\" font-family=\"sans-serif\" font-size=\"11\">";
    s += detail::svg_text(width / 2, 16, title, "text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\"");
    for (int t = 0; t <= 4; ++t) {
        const double v = max_value * t / 4.0, y = top + plot_h * (1 - t / 4.0);
        char label[32];
        std::snprintf(label, sizeof label, "%.2g", v);
        s += detail::svg_text(left - 4, y + 4, label, "text-anchor=\"end\"");
        s += "<line x1=\"" + detail::svg_number(left) + "\" x2=\"" + detail::svg_number(left + group * static_cast<double>(categories.size())) +
             "\" y1=\"" + detail::svg_number(y) + "\" y2=\"" + detail::svg_number(y) + "\" stroke=\"#ddd\"/>";
    }
    for (std::size_t c = 0; c < categories.size(); ++c) {
        const double gx = left + group * static_cast<double>(c) + 7;
        for (std::size_t k = 0; k < series.size(); ++k) {
            const double v = std::clamp(series[k].values[c], 0.0, max_value);
            const double h = plot_h * v / max_value;
            s += "<rect x=\"" + detail::svg_number(gx + 16.0 * static_cast<double>(k)) + "\" y=\"" + detail::svg_number(top + plot_h - h) +
                 "\" width=\"14\" height=\"" + detail::svg_number(h) + "\" fill=\"" + detail::series_colour(k) + "\"><title>" +
                 html_escape(categories[c]) + " " + html_escape(series[k].name) + ": " + detail::svg_number(series[k].values[c] * 100) +
                 "%</title></rect>";
        }
        s += "<text transform=\"translate(" + detail::svg_number(gx + 4) + "," + detail::svg_number(top + plot_h + 12) +
             ") rotate(30)\">" + html_escape(categories[c]) + "</text>";
    }
    for (std::size_t k = 0; k < series.size(); ++k) {
        const double lx = left + group * static_cast<double>(categories.size()) + 10, ly = top + 16.0 * static_cast<double>(k);
        s += "<rect x=\"" + detail::svg_number(lx) + "\" y=\"" + detail::svg_number(ly) + "\" width=\"12\" height=\"12\" fill=\"" +
             detail::series_colour(k) + "\"/>" + detail::svg_text(lx + 16, ly + 10, series[k].name);
    }
    return s + "</svg>";
}

/// A grid of grayscale faces (rows of `pixels`, each height x width) labelled
/// "predicted / true"; the frame is green when predicted == true, red otherwise.
inline std::string face_grid_svg(const Eigen::Ref<const PixelMatrix>& pixels, Index height, Index width,
                                 const Labels& predicted, const Labels& truth, const std::vector<std::string>& class_names,
                                 Index columns = 8, int scale = 2) {
    const Index n = pixels.rows();
    if (predicted.size() != n || truth.size() != n || pixels.cols() != height * width)
        detail::fail("face_grid_svg: ", n, " images of ", pixels.cols(), " pixels, ", predicted.size(), " predictions, ",
                     truth.size(), " labels, shape ", height, "x", width);
    const double cw = static_cast<double>(width * scale) + 16, ch = static_cast<double>(height * scale) + 34;
    const Index rows = (n + columns - 1) / columns;
    std::string s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + detail::svg_number(cw * static_cast<double>(std::min(n, columns))) +
                    "\" height=\"" + detail::svg_number(ch * static_cast<double>(rows)) + "\" font-family=\"sans-serif\" font-size=\"10\">";
    auto name = [&](int label) {
        return label >= 0 && static_cast<std::size_t>(label) < class_names.size() ? class_names[static_cast<std::size_t>(label)]
                                                                                   : std::to_string(label);
    };
    for (Index i = 0; i < n; ++i) {
        const double x = cw * static_cast<double>(i % columns), y = ch * static_cast<double>(i / columns);
        Image<std::uint8_t> face(height, width, 1);
        std::copy(pixels.row(i).data(), pixels.row(i).data() + height * width, face.data());
        const bool right = predicted[i] == truth[i];
        const char* colour = right ? "#1a9641" : "#d7191c";
        s += "<rect x=\"" + detail::svg_number(x + 4) + "\" y=\"" + detail::svg_number(y + 2) + "\" width=\"" +
             detail::svg_number(static_cast<double>(width * scale) + 8) + "\" height=\"" + detail::svg_number(static_cast<double>(height * scale) + 8) +
             "\" fill=\"" + colour + "\"/>";
        s += "<image x=\"" + detail::svg_number(x + 8) + "\" y=\"" + detail::svg_number(y + 6) + "\" width=\"" +
             std::to_string(width * scale) + "\" height=\"" + std::to_string(height * scale) +
             "\" style=\"image-rendering:pixelated\" href=\"" + png_data_uri(face) + "\"/>";
        s += detail::svg_text(x + 8, y + static_cast<double>(height * scale) + 24, name(predicted[i]) + " / " + name(truth[i]),
                              std::string("fill=\"") + colour + "\"");
    }
    return s + "</svg>";
}

/// Colours a height x width grid of values (row-major) with viridis, min -> dark, max -> bright,
/// each value drawn as a scale x scale block.
inline Image<std::uint8_t> heatmap_image(const Eigen::Ref<const Vector<double>>& values, Index height, Index width, int scale = 6) {
    if (values.size() != height * width || height <= 0 || width <= 0 || scale < 1)
        detail::fail("heatmap_image: ", values.size(), " values for a ", height, " x ", width, " grid at scale ", scale);
    const double low = values.minCoeff(), high = values.maxCoeff();
    const double range = high > low ? high - low : 1.0;
    Image<std::uint8_t> out(height * scale, width * scale, 3);
    for (Index y = 0; y < out.height(); ++y)
        for (Index x = 0; x < out.width(); ++x) {
            const auto rgb = detail::viridis((values[(y / scale) * width + x / scale] - low) / range);
            for (Index c = 0; c < 3; ++c) out(y, x, c) = rgb[static_cast<std::size_t>(c)];
        }
    return out;
}

}  // namespace feral
