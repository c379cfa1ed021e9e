// Tests for feral/data/csv_loader.hpp.
#include "feral/data/csv_loader.hpp"

#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {
// A 2x2-pixel CSV (small images keep the text readable).
fs::path write_csv(const std::string& name, const std::string& text) {
    const auto path = feral::test::scratch_dir(name) / "data.csv";
    std::ofstream(path, std::ios::binary) << text;
    return path;
}
const feral::CsvLoadConfig tiny{.height = 2, .width = 2};
}  // namespace

TEST_CASE("load_fer2013_csv splits rows by Usage and keeps their order", "[data][csv]") {
    const auto path = write_csv("csv_parts", "emotion,pixels,Usage\n"
                                             "3,0 1 2 3,Training\n"
                                             "0,255 254 253 252,PublicTest\r\n"
                                             "6,\"10 20 30 40\",PrivateTest\n"
                                             "1,5  6 7\t8,Training");  // no final newline, double space, tab
    const auto csv = feral::load_fer2013_csv(path, tiny);
    REQUIRE(csv.training.size() == 2);
    REQUIRE(csv.public_test.size() == 1);
    REQUIRE(csv.private_test.size() == 1);
    CHECK(csv.training.labels == (feral::Labels(2) << 3, 1).finished());
    CHECK(csv.training.pixels.row(0) == (feral::PixelMatrix(1, 4) << 0, 1, 2, 3).finished());
    CHECK(csv.training.pixels.row(1) == (feral::PixelMatrix(1, 4) << 5, 6, 7, 8).finished());
    CHECK(csv.public_test.pixels(0, 0) == 255);
    CHECK(csv.private_test.labels[0] == 6);
    CHECK(csv.private_test.pixels(0, 3) == 40);
    CHECK(csv.training.class_names == feral::fer2013_class_names());
    CHECK(csv.training.shape == feral::ImageShape{1, 2, 2});
    CHECK(csv.training.sources[1] == path.string() + ":line 5");
    CHECK(csv.report.loaded == 4);
    csv.training.validate();
}

TEST_CASE("load_fer2013_csv accepts other column orders and a missing Usage column", "[data][csv]") {
    const auto path = write_csv("csv_columns", "pixels,emotion\n9 9 9 9,2\n1 2 3 4,5\n");
    const auto csv = feral::load_fer2013_csv(path, tiny);
    CHECK(csv.training.size() == 2);
    CHECK(csv.public_test.empty());
    CHECK(csv.training.labels[1] == 5);
    CHECK(csv.training.pixels(1, 2) == 3);
}

TEST_CASE("load_fer2013_csv names the file and line of each kind of bad row", "[data][csv]") {
    const std::string header = "emotion,pixels,Usage\n";
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"1,0 1 2,Training", "3 pixels, expected 4"},
        {"1,0 1 2 3 4,Training", "more than 4 pixels"},
        {"1,0 1 x2 3,Training", "pixel 2 is 'x2', not an integer"},
        {"1,0 1 2.5 3,Training", "pixel 2 is '2.5'"},
        {"1,0 1 256 3,Training", "pixel 2 is 256, outside 0..255"},
        {"1,0 -1 2 3,Training", "pixel 1 is '-1'"},
        {"7,0 1 2 3,Training", "emotion 7 is outside 0..6"},
        {"a,0 1 2 3,Training", "emotion 'a' is not a label"},
        {",0 1 2 3,Training", "emotion '' is not a label"},
        {"1,0 1 2 3,Validation", "Usage 'Validation'"},
        {"1,0 1 2 3", "2 fields, the header has 3"},
    };
    for (const auto& [row, expected] : cases) {
        INFO(row);
        const auto path = write_csv("csv_bad", header + "0,1 1 1 1,Training\n" + row + "\n4,2 2 2 2,PublicTest\n");
        CHECK_THROWS_AS(feral::load_fer2013_csv(path, tiny), feral::format_error);
        CHECK_THROWS_WITH(feral::load_fer2013_csv(path, tiny), Catch::Contains(path.string() + ":line 3: ") && Catch::Contains(expected));
        auto skipping = tiny;
        skipping.on_error = feral::OnError::skip;
        const auto csv = feral::load_fer2013_csv(path, skipping);
        CHECK(csv.training.size() == 1);
        CHECK(csv.training.pixels(0, 0) == 1);
        CHECK(csv.public_test.size() == 1);
        CHECK(csv.public_test.pixels(0, 3) == 2);
        REQUIRE(csv.report.skipped.size() == 1);
        CHECK(csv.report.skipped[0].source == path.string() + ":line 3");
        CHECK_THAT(csv.report.skipped[0].reason, Catch::Contains(expected));
    }
}

TEST_CASE("load_fer2013_csv rejects a bad header, an empty or missing file", "[data][csv]") {
    CHECK_THROWS_WITH(feral::load_fer2013_csv(write_csv("csv_header", "label,pixels\n1,1 2 3 4\n"), tiny),
                      Catch::Contains("line 1") && Catch::Contains("lacks the column 'emotion'"));
    CHECK_THROWS_WITH(feral::load_fer2013_csv(write_csv("csv_empty", ""), tiny), Catch::Contains("is empty"));
    CHECK_THROWS_AS(feral::load_fer2013_csv(feral::test::scratch_dir("csv_none") / "missing.csv"), feral::io_error);
    CHECK_THROWS_AS(feral::load_fer2013_csv(write_csv("csv_size", "emotion,pixels\n"), {.height = 0}), feral::invalid_argument);
}

TEST_CASE("load_fer2013_csv handles lines longer than its read block", "[data][csv]") {
    // 2,000 x 2,000 pixels per row: a 7.8 MB line, larger than the 4 MiB block.
    std::string row = "4,";
    for (int i = 0; i < 2000 * 2000; ++i) {
        if (i > 0) row.push_back(' ');
        row.append(std::to_string(i % 256));
    }
    const auto path = write_csv("csv_long", "emotion,pixels,Usage\n" + row + ",PrivateTest\n" + row + ",Training\n");
    const auto csv = feral::load_fer2013_csv(path, {.height = 2000, .width = 2000, .keep_sources = false});
    REQUIRE(csv.private_test.size() == 1);
    REQUIRE(csv.training.size() == 1);
    CHECK(csv.training.pixels(0, 3999999) == 3999999 % 256);
    CHECK(csv.private_test.pixels(0, 1000) == 1000 % 256);
    CHECK(csv.training.sources.empty());
}

TEST_CASE("load_fer2013_csv reads the 627-row FER2013 sample exactly", "[data][csv][fer2013]") {
    auto root = feral::test::fer2013_root("load_fer2013_csv sample");
    if (!root) return;
    const auto path = *root / "fer2013-sample.csv";
    const auto csv = feral::load_fer2013_csv(path);
    CHECK(csv.training.size() + csv.public_test.size() + csv.private_test.size() == 627);
    CHECK(csv.report.skipped.empty());

    // Independent reading with iostreams: every label and pixel must match.
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    feral::Index row[2] = {0, 0};
    int rows = 0;
    bool all_equal = true;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::stringstream ss(line);
        std::string emotion, pixels, usage;
        std::getline(ss, emotion, ',');
        std::getline(ss, pixels, ',');
        std::getline(ss, usage);
        if (!usage.empty() && usage.back() == '\r') usage.pop_back();
        const int part = usage == "Training" ? 0 : 1;
        const feral::Dataset& d = part == 0 ? csv.training : csv.public_test;
        const feral::Index r = row[part]++;
        all_equal = all_equal && d.labels[r] == std::stoi(emotion);
        std::istringstream values(pixels);
        int v = 0;
        for (feral::Index k = 0; values >> v; ++k) all_equal = all_equal && k < 2304 && d.pixels(r, k) == v;
        ++rows;
    }
    CHECK(rows == 627);
    CHECK(all_equal);
    CHECK(row[0] == csv.training.size());
    CHECK(row[1] == csv.public_test.size());
    // The first row of the original file: angry, pixels begin 70 80 82 72.
    CHECK(csv.training.labels[0] == 0);
    CHECK(csv.training.pixels(0, 0) == 70);
    CHECK(csv.training.pixels(0, 3) == 72);
    CHECK(csv.training.class_counts() == std::vector<feral::Index>{85, 4, 91, 114, 75, 66, 82});
    CHECK(csv.public_test.class_counts() == std::vector<feral::Index>{18, 2, 11, 26, 13, 18, 22});
}

TEST_CASE("load_fer2013_csv gives the same parts, report and first error for every thread count", "[data][csv]") {
    std::string text = "emotion,pixels,Usage\n";
    const char* usages[] = {"Training", "PublicTest", "PrivateTest"};
    for (int i = 0; i < 300; ++i) {
        const bool bad = i % 37 == 5;
        text += std::to_string(i % 7) + "," + std::to_string(i % 256) + " 1 2 " + (bad ? "x" : "3") + "," + usages[i % 3] + "\n";
    }
    const auto path = write_csv("csv_threads", text);
    auto config = tiny;
    config.on_error = feral::OnError::skip;
    config.n_threads = 1;
    const auto one = feral::load_fer2013_csv(path, config);
    CHECK(one.report.skipped.size() == 8);
    CHECK(one.report.skipped[0].source == path.string() + ":line 7");
    for (int threads : {2, 5}) {
        config.n_threads = threads;
        const auto many = feral::load_fer2013_csv(path, config);
        CHECK(many.training.pixels == one.training.pixels);
        CHECK(many.public_test.labels == one.public_test.labels);
        CHECK(many.private_test.sources == one.private_test.sources);
        REQUIRE(many.report.skipped.size() == one.report.skipped.size());
        for (std::size_t k = 0; k < one.report.skipped.size(); ++k) CHECK(many.report.skipped[k].source == one.report.skipped[k].source);
        auto raising = tiny;
        raising.n_threads = threads;
        CHECK_THROWS_WITH(feral::load_fer2013_csv(path, raising), Catch::Contains(":line 7:"));
    }
}
