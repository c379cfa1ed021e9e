// feral/data/csv_loader.hpp — the original FER2013 CSV (Kaggle's fer2013.csv).
//
// Format: a header line naming the columns, then one image per line:
//     emotion,pixels,Usage
//     0,70 80 82 72 ... (2,304 values),Training
//   * emotion  the label, 0..6 in fer2013_class_names() order;
//   * pixels   height * width integers 0..255, space separated, row by row;
//   * Usage    Training, PublicTest or PrivateTest (the three parts of the original split).
// The columns may come in any order; Usage may be absent (Kaggle's train.csv), and then every
// row goes to `training`. A field may be wrapped in double quotes. Lines end in \n or \r\n.
//
// Errors name the file and the line (the header is line 1): a missing column, a wrong number
// of fields or pixels, a value that is not an integer or outside its range, an unknown Usage
// -> format_error; an unreadable file -> io_error. With on_error = OnError::skip bad rows are
// left out and listed in the report instead (a bad header still throws).
//
// Example:
//   auto csv = feral::load_fer2013_csv("fer2013.csv");
//   feral::Dataset train = std::move(csv.training), test = std::move(csv.public_test);
//
// Performance: the file is read in 4 MiB blocks (it is never held whole). The complete lines
// of a block are parsed in parallel (n_threads) with a hand-written integer loop — no
// iostream or strtol per value — each into its own row of a block buffer, then appended in
// file order to one growing byte buffer per part, so the result and the first error reported
// do not depend on the thread count.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/data/dataset.hpp"
#include "feral/data/load_report.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace feral {

struct CsvLoadConfig {
    Index height = 48;  ///< image height; each row must have height * width pixels
    Index width = 48;
    OnError on_error = OnError::raise;
    bool keep_sources = true;  ///< fill Dataset::sources with "file.csv:line N"
    int n_threads = 0;         ///< threads parsing each block of lines; 0 = FERAL_NUM_THREADS or all cores
};

/// The three parts of the FER2013 CSV, each a Dataset with fer2013_class_names().
struct Fer2013Csv {
    Dataset training;      ///< Usage == Training
    Dataset public_test;   ///< Usage == PublicTest (the usual validation/test set)
    Dataset private_test;  ///< Usage == PrivateTest
    LoadReport report;
};

namespace detail {

/// Collects the rows of one part before they become a Dataset: one pixel chunk per block
/// read (exactly sized, so growing never copies), joined once at the end.
struct CsvPart {
    std::vector<std::vector<std::uint8_t>> chunks;
    std::vector<int> labels;
    std::vector<std::string> sources;
};

/// The columns of a FER2013 CSV, found in its header line.
struct CsvColumns {
    int emotion = -1, pixels = -1, usage = -1, count = 0;
};

/// Parses the header line (line 1). Throws format_error if emotion or pixels is missing.
inline CsvColumns parse_csv_header(std::string_view text, const std::string& file) {
    if (text.size() >= 3 && static_cast<unsigned char>(text[0]) == 0xEF) text.remove_prefix(3);  // UTF-8 BOM
    CsvColumns columns;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = text.find(',', start);
        std::string_view name = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (name.size() >= 2 && name.front() == '"' && name.back() == '"') name = name.substr(1, name.size() - 2);
        if (name == "emotion") columns.emotion = columns.count;
        else if (name == "pixels") columns.pixels = columns.count;
        else if (name == "Usage") columns.usage = columns.count;
        ++columns.count;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    if (columns.emotion < 0 || columns.pixels < 0)
        fail<format_error>("load_fer2013_csv: ", file, ":line 1: header '", std::string(text), "' lacks the column '",
                           columns.emotion < 0 ? "emotion" : "pixels", "' (expected emotion,pixels,Usage)");
    return columns;
}

/// What parse_csv_row found in one line.
struct CsvRow {
    int label = 0;
    int part = 0;        ///< 0 Training, 1 PublicTest, 2 PrivateTest
    std::string error;   ///< empty, or why the line is bad (without the file:line prefix)
};

/// Parses one data line (no line ending) into `pixels` (n_pixels bytes). Never throws: a bad
/// line sets row.error. Pure function of its arguments, so lines can be parsed in parallel.
inline CsvRow parse_csv_row(std::string_view text, const CsvColumns& columns, Index n_pixels, const CsvLoadConfig& config,
                            std::uint8_t* pixels) {
    CsvRow row;
    std::string_view fields[16];
    int count = 0;
    std::size_t start = 0;
    for (;;) {
        const std::size_t comma = text.find(',', start);
        std::string_view field = text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        if (field.size() >= 2 && field.front() == '"' && field.back() == '"') field = field.substr(1, field.size() - 2);
        if (count < 16) fields[count] = field;
        ++count;
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    if (count != columns.count) {
        row.error = message(count, " fields, the header has ", columns.count);
        return row;
    }

    const std::string_view emotion = fields[columns.emotion];
    bool digits_only = !emotion.empty() && emotion.size() <= 3;
    for (char ch : emotion) digits_only = digits_only && ch >= '0' && ch <= '9';
    if (!digits_only) {
        row.error = message("emotion '", std::string(emotion), "' is not a label 0..6");
        return row;
    }
    for (char ch : emotion) row.label = row.label * 10 + (ch - '0');
    if (row.label > 6) {
        row.error = message("emotion ", row.label, " is outside 0..6");
        return row;
    }

    if (columns.usage >= 0) {
        const std::string_view usage = fields[columns.usage];
        if (usage == "Training") row.part = 0;
        else if (usage == "PublicTest") row.part = 1;
        else if (usage == "PrivateTest") row.part = 2;
        else {
            row.error = message("Usage '", std::string(usage), "' is not Training, PublicTest or PrivateTest");
            return row;
        }
    }

    // Pixels: decimal integers separated by spaces or tabs. The fast path reads up to three
    // digits and requires a separator (or the end) after them; anything else is an error.
    const std::string_view px = fields[columns.pixels];
    const char* p = px.data();
    const char* const end = p + px.size();
    Index k = 0;
    for (;;) {
        while (p < end && (*p == ' ' || *p == '\t')) ++p;
        if (p == end) break;
        const char* const token = p;
        unsigned value = 0;
        int digits = 0;
        for (unsigned d; p < end && digits < 4 && (d = static_cast<unsigned>(*p - '0')) < 10u; ++p, ++digits)
            value = value * 10 + d;
        if (digits == 0 || (p < end && *p != ' ' && *p != '\t')) {
            const char* token_end = p;
            while (token_end < end && *token_end != ' ' && *token_end != '\t') ++token_end;
            row.error = message("pixel ", k, " is '", std::string(token, token_end), "', not an integer 0..255");
            return row;
        }
        if (value > 255) {
            row.error = message("pixel ", k, " is ", value, ", outside 0..255");
            return row;
        }
        if (k == n_pixels) {
            row.error = message("more than ", n_pixels, " pixels (expected ", config.height, " x ", config.width, ")");
            return row;
        }
        pixels[k++] = static_cast<std::uint8_t>(value);
    }
    if (k != n_pixels) row.error = message(k, " pixels, expected ", n_pixels, " (", config.height, " x ", config.width, ")");
    return row;
}

}  // namespace detail

/// Loads a FER2013-format CSV (see the header comment).
/// throws: io_error if the file cannot be read; format_error naming file:line for bad content;
///         invalid_argument for an impossible image size or thread count.
inline Fer2013Csv load_fer2013_csv(const std::filesystem::path& path, const CsvLoadConfig& config = {}) {
    constexpr const char* where = "load_fer2013_csv";
    if (config.height < 1 || config.width < 1)
        detail::fail(where, ": image size ", config.height, " x ", config.width, " must be at least 1 x 1");
    (void)resolve_threads(config.n_threads);
    const std::string file = path.string();
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (f == nullptr) detail::fail<io_error>(where, ": cannot open '", file, "': ", std::strerror(errno));
    struct Closer {
        std::FILE* f;
        ~Closer() { std::fclose(f); }
    } closer{f};

    Fer2013Csv out;
    const Index n_pixels = config.height * config.width;
    detail::CsvColumns columns;
    detail::CsvPart parts[3];
    Index line_number = 0;

    // Per block: the complete lines, parsed in parallel into `rows`, then appended in order.
    std::vector<std::string_view> lines;
    std::vector<std::uint8_t> rows;
    std::vector<detail::CsvRow> results;
    auto flush = [&](Index first_line) {
        if (lines.empty()) return;
        std::size_t begin = 0;
        if (first_line == 1) {
            std::string_view header = lines[0];
            if (!header.empty() && header.back() == '\r') header.remove_suffix(1);
            columns = detail::parse_csv_header(header, file);
            begin = 1;
        }
        const auto n = static_cast<std::int64_t>(lines.size());
        rows.resize(lines.size() * static_cast<std::size_t>(n_pixels));
        results.assign(lines.size(), {});
        parallel_for(static_cast<std::int64_t>(begin), n, config.n_threads, [&](std::int64_t b, std::int64_t e) {
            for (std::int64_t i = b; i < e; ++i) {
                std::string_view text = lines[static_cast<std::size_t>(i)];
                if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
                if (text.empty()) {
                    results[static_cast<std::size_t>(i)].part = -1;  // blank line
                    continue;
                }
                results[static_cast<std::size_t>(i)] =
                    detail::parse_csv_row(text, columns, n_pixels, config, rows.data() + i * n_pixels);
            }
        });
        std::size_t kept_rows[3] = {0, 0, 0};
        for (std::size_t i = begin; i < lines.size(); ++i) {
            auto& r = results[i];
            const Index number = first_line + static_cast<Index>(i);
            if (r.part < 0) continue;
            if (!r.error.empty()) {
                std::string msg = detail::message(where, ": ", file, ":line ", number, ": ", r.error);
                if (config.on_error == OnError::raise) throw format_error(msg);
                out.report.skipped.push_back({file + ":line " + std::to_string(number), std::move(msg)});
                r.part = -1;
                continue;
            }
            ++kept_rows[r.part];
            parts[r.part].labels.push_back(r.label);
            if (config.keep_sources) parts[r.part].sources.push_back(file + ":line " + std::to_string(number));
        }
        for (int p = 0; p < 3; ++p) {
            if (kept_rows[p] == 0) continue;
            auto& chunk = parts[p].chunks.emplace_back(kept_rows[p] * static_cast<std::size_t>(n_pixels));
            std::uint8_t* dst = chunk.data();
            for (std::size_t i = begin; i < lines.size(); ++i) {
                if (results[i].part != p) continue;
                std::memcpy(dst, rows.data() + i * static_cast<std::size_t>(n_pixels), static_cast<std::size_t>(n_pixels));
                dst += n_pixels;
            }
        }
        lines.clear();
    };

    // Reading: 4 MiB blocks; an unfinished line moves to the front of the buffer (which
    // doubles when one line does not fit).
    std::vector<char> buffer(std::size_t{4} << 20);
    std::size_t kept = 0;
    for (;;) {
        if (kept == buffer.size()) buffer.resize(buffer.size() * 2);
        const std::size_t got = std::fread(buffer.data() + kept, 1, buffer.size() - kept, f);
        if (got == 0 && std::ferror(f)) detail::fail<io_error>(where, ": cannot read '", file, "'");
        const std::size_t size = kept + got;
        const Index first_line = line_number + 1;
        std::size_t start = 0;
        for (;;) {
            const void* nl = std::memchr(buffer.data() + start, '\n', size - start);
            if (nl == nullptr) break;
            const auto stop = static_cast<std::size_t>(static_cast<const char*>(nl) - buffer.data());
            lines.emplace_back(buffer.data() + start, stop - start);
            ++line_number;
            start = stop + 1;
        }
        if (got == 0) {
            if (start < size) {
                lines.emplace_back(buffer.data() + start, size - start);
                ++line_number;
            }
            flush(first_line);
            break;
        }
        flush(first_line);
        kept = size - start;
        std::memmove(buffer.data(), buffer.data() + start, kept);
    }
    if (line_number == 0) detail::fail<format_error>(where, ": '", file, "' is empty (expected the header emotion,pixels,Usage)");

    Dataset* targets[3] = {&out.training, &out.public_test, &out.private_test};
    for (int p = 0; p < 3; ++p) {
        detail::CsvPart& part = parts[p];
        Dataset& d = *targets[p];
        d.class_names = fer2013_class_names();
        d.shape = {1, config.height, config.width};
        const auto n = static_cast<Index>(part.labels.size());
        d.pixels.resize(n, n_pixels);
        std::uint8_t* dst = d.pixels.data();
        for (const auto& chunk : part.chunks) {
            std::memcpy(dst, chunk.data(), chunk.size());
            dst += chunk.size();
        }
        d.labels = Eigen::Map<const Labels>(part.labels.data(), n);
        d.sources = std::move(part.sources);
        out.report.loaded += n;
        part = detail::CsvPart{};
    }
    return out;
}

}  // namespace feral
