// feral/report/html_report.hpp — a self-contained HTML page of results.
//
// The page has no external resources: pictures are inline SVG or PNG data URIs, the
// style sheet is embedded, so the single file opens offline in any browser and can
// be mailed or archived as is.
//
//   feral::HtmlReport report("Study 1: three models");
//   report.heading("Results");
//   report.table({"model", "accuracy"}, {{"CNN", "48.9%"}, {"Random forest", "39.8%"}});
//   report.svg(feral::confusion_matrix_svg(cm, class_names, "CNN"));
//   report.png(face_grid_image, "Sample predictions");
//   report.write("out/report");     // writes out/report/index.html
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/serialize.hpp"
#include "feral/data/image.hpp"
#include "feral/data/image_io.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace feral {

/// Standard base64 (RFC 4648) of a byte buffer, for data: URIs.
inline std::string base64_encode(const std::vector<unsigned char>& bytes) {
    static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const unsigned v = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += alphabet[v & 63];
    }
    if (i + 1 == bytes.size()) {
        const unsigned v = bytes[i] << 16;
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == bytes.size()) {
        const unsigned v = (bytes[i] << 16) | (bytes[i + 1] << 8);
        out += alphabet[(v >> 18) & 63];
        out += alphabet[(v >> 12) & 63];
        out += alphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

/// Escapes text for HTML and SVG (&, <, >, ", ').
inline std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

/// A PNG as a data: URI (for <img src> or SVG <image href>).
inline std::string png_data_uri(const Image<std::uint8_t>& image) {
    return "data:image/png;base64," + base64_encode(encode_png(image));
}

class HtmlReport {
public:
    explicit HtmlReport(std::string title) : title_(std::move(title)) {}

    void heading(std::string_view text, int level = 2) {
        const int h = level < 1 ? 1 : level > 4 ? 4 : level;
        body_ += "<h" + std::to_string(h) + ">" + html_escape(text) + "</h" + std::to_string(h) + ">\n";
    }

    void paragraph(std::string_view text) { body_ += "<p>" + html_escape(text) + "</p>\n"; }

    /// A paragraph holding one link (e.g. to a sub-report in a folder beside this page).
    void link(std::string_view href, std::string_view text) {
        body_ += "<p><a href=\"" + html_escape(href) + "\">" + html_escape(text) + "</a></p>\n";
    }

    /// Preformatted text (classification reports, logs).
    void preformatted(std::string_view text) { body_ += "<pre>" + html_escape(text) + "</pre>\n"; }

    /// A table; every row must have as many cells as the header.
    void table(const std::vector<std::string>& header, const std::vector<std::vector<std::string>>& rows) {
        body_ += "<table>\n<tr>";
        for (const auto& h : header) body_ += "<th>" + html_escape(h) + "</th>";
        body_ += "</tr>\n";
        for (std::size_t r = 0; r < rows.size(); ++r) {
            if (rows[r].size() != header.size())
                detail::fail("HtmlReport::table: row ", r, " has ", rows[r].size(), " cells, the header has ", header.size());
            body_ += "<tr>";
            for (const auto& cell : rows[r]) body_ += "<td>" + html_escape(cell) + "</td>";
            body_ += "</tr>\n";
        }
        body_ += "</table>\n";
    }

    /// An inline SVG picture (as produced by report/charts.hpp), in a figure box.
    void svg(const std::string& svg_markup, std::string_view caption = {}) {
        body_ += "<figure>" + svg_markup;
        if (!caption.empty()) body_ += "<figcaption>" + html_escape(caption) + "</figcaption>";
        body_ += "</figure>\n";
    }

    /// An inline PNG picture, drawn `scale` times its pixel size without smoothing.
    void png(const Image<std::uint8_t>& image, std::string_view caption = {}, int scale = 1) {
        body_ += "<figure><img class=\"pixelated\" alt=\"" + html_escape(caption) + "\" width=\"" +
                 std::to_string(image.width() * scale) + "\" src=\"" + png_data_uri(image) + "\">";
        if (!caption.empty()) body_ += "<figcaption>" + html_escape(caption) + "</figcaption>";
        body_ += "</figure>\n";
    }

    /// Starts / ends a row of figures laid out side by side.
    void begin_row() { body_ += "<div class=\"row\">\n"; }
    void end_row() { body_ += "</div>\n"; }

    [[nodiscard]] std::string html() const {
        return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + html_escape(title_) +
               "</title>\n<style>\n"
               "body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;background:#fff}\n"
               "h1{border-bottom:2px solid #444}h2{margin-top:2em;border-bottom:1px solid #ccc}\n"
               "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #bbb;padding:4px 10px;text-align:right}\n"
               "th{background:#eee}td:first-child,th:first-child{text-align:left}\n"
               "figure{display:inline-block;margin:8px;vertical-align:top}figcaption{font-size:90%;color:#555;text-align:center}\n"
               "img.pixelated{image-rendering:pixelated}.row{display:flex;flex-wrap:wrap;gap:8px}\n"
               "pre{background:#f6f6f6;padding:8px;overflow-x:auto}\n"
               "</style></head><body>\n<h1>" +
               html_escape(title_) + "</h1>\n" + body_ + "</body></html>\n";
    }

    /// Writes `dir`/index.html (creating dir). Replaces an earlier report only with Overwrite::yes.
    std::filesystem::path write(const std::filesystem::path& dir, Overwrite overwrite = Overwrite::no) const {
        std::filesystem::create_directories(dir);
        const auto path = dir / "index.html";
        if (overwrite == Overwrite::no && std::filesystem::exists(path))
            detail::fail<io_error>("HtmlReport::write: refusing to overwrite '", path.string(),
                                   "' (pass Overwrite::yes to replace it)");
        std::ofstream out(path, std::ios::trunc);
        if (!out) detail::fail<io_error>("HtmlReport::write: cannot write '", path.string(), "'");
        out << html();
        if (!out) detail::fail<io_error>("HtmlReport::write: failed writing '", path.string(), "'");
        return path;
    }

private:
    std::string title_;
    std::string body_;
};

}  // namespace feral
