// Tests for feral/data/folder_loader.hpp (and the resize and class-name helpers it uses).
#include "feral/data/folder_loader.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace {
// A 48x48 gray image whose every pixel is `value` except pixel (0, 0) = `tag`, so each file
// can be recognised after loading.
feral::Image<> face(std::uint8_t value, std::uint8_t tag, feral::Index size = 48) {
    feral::Image<> img(size, size, 1, value);
    img(0, 0) = tag;
    return img;
}

void write(const fs::path& path, const feral::Image<>& img) {
    fs::create_directories(path.parent_path());
    feral::write_png(path, img);
}

// Seven classes, two images each, with the "ed/ful" spellings for three of them and files
// written in non-sorted order. Pixel (0,0) = 10 * csv_label + file number.
fs::path make_layout(const std::string& name) {
    const auto root = feral::test::scratch_dir(name);
    const std::vector<std::pair<std::string, int>> folders = {{"angry", 0}, {"disgusted", 1}, {"fearful", 2}, {"happy", 3},
                                                              {"sad", 4},   {"Surprised", 5}, {"neutral", 6}};
    for (const auto& [folder, label] : folders) {
        write(root / folder / "b.png", face(static_cast<std::uint8_t>(100 + label), static_cast<std::uint8_t>(10 * label + 2)));
        write(root / folder / "a.png", face(static_cast<std::uint8_t>(100 + label), static_cast<std::uint8_t>(10 * label + 1)));
    }
    return root;
}
}  // namespace

TEST_CASE("load_image_folder accepts both class spellings and uses the FER2013 CSV order", "[data][folder]") {
    const auto root = make_layout("folder_spellings");
    std::ofstream(root / "happy" / "notes.txt") << "not an image";
    fs::create_directories(root / ".ipynb_checkpoints");
    const auto [data, report] = feral::load_image_folder(root, {.n_threads = 2});
    REQUIRE(data.size() == 14);
    CHECK(data.class_names == feral::fer2013_class_names());
    CHECK(data.shape == feral::ImageShape{1, 48, 48});
    CHECK(data.class_counts() == std::vector<feral::Index>(7, 2));
    for (feral::Index i = 0; i < 14; ++i) {
        const int label = static_cast<int>(i / 2);
        CHECK(data.labels[i] == label);
        CHECK(data.pixels(i, 0) == 10 * label + 1 + i % 2);  // a.png before b.png
        CHECK(data.pixels(i, 47 * 48 + 47) == 100 + label);
        CHECK(fs::path(data.sources[static_cast<std::size_t>(i)]).filename() == (i % 2 ? "b.png" : "a.png"));
    }
    CHECK(report.loaded == 14);
    CHECK(report.skipped.empty());
    REQUIRE(report.ignored.size() == 2);
    CHECK(fs::path(report.ignored[0]).filename() == ".ipynb_checkpoints");
    CHECK(fs::path(report.ignored[1]).filename() == "notes.txt");
    data.validate();
}

TEST_CASE("load_image_folder gives Keras' alphabetical order on request", "[data][folder]") {
    const auto root = make_layout("folder_keras");
    const auto data = feral::load_image_folder(root, {.class_order = feral::ClassOrder::keras}).data;
    CHECK(data.class_names == feral::keras_class_names());
    // neutral (CSV label 6) is Keras class 4; its pixels are 106.
    for (feral::Index i = 0; i < data.size(); ++i)
        CHECK(data.class_names[static_cast<std::size_t>(data.labels[i])] ==
              feral::fer2013_class_names()[static_cast<std::size_t>(data.pixels(i, 100) - 100)]);
    CHECK(data.pixels(8, 100) == 106);
    const auto csv = feral::load_image_folder(root).data;
    const auto reordered = feral::reorder_classes(csv, feral::keras_class_names());
    CHECK(reordered.class_names == data.class_names);
    std::multiset<std::pair<int, int>> pairs_keras, pairs_reordered;
    for (feral::Index i = 0; i < data.size(); ++i) {
        pairs_keras.emplace(data.pixels(i, 0), data.labels[i]);
        pairs_reordered.emplace(reordered.pixels(i, 0), reordered.labels[i]);
    }
    CHECK(pairs_keras == pairs_reordered);
}

TEST_CASE("load_image_folder gives the same data set for every thread count", "[data][folder]") {
    const auto root = make_layout("folder_threads");
    const auto one = feral::load_image_folder(root, {.n_threads = 1}).data;
    for (int threads : {2, 3, 8}) {
        const auto many = feral::load_image_folder(root, {.n_threads = threads}).data;
        CHECK(many.pixels == one.pixels);
        CHECK(many.labels == one.labels);
        CHECK(many.sources == one.sources);
    }
}

TEST_CASE("load_image_folder converts colour files to gray with BT.601 luma, and reads BMP and JPEG", "[data][folder]") {
    const auto root = feral::test::scratch_dir("folder_colour");
    feral::Image<> rgb(48, 48, 3);
    for (feral::Index i = 0; i < 48 * 48; ++i) {
        rgb.data()[3 * i] = 200;
        rgb.data()[3 * i + 1] = 100;
        rgb.data()[3 * i + 2] = 50;
    }
    write(root / "a" / "rgb.png", rgb);
    const auto bmp = face(77, 3);
    fs::create_directories(root / "b");
    REQUIRE(stbi_write_bmp((root / "b" / "x.BMP").c_str(), 48, 48, 1, bmp.data()) != 0);
    feral::write_jpeg(root / "b" / "y.jpg", face(128, 128), 100);
    const auto data = feral::load_image_folder(root, {.class_order = feral::ClassOrder::folders}).data;
    REQUIRE(data.size() == 3);
    CHECK(data.class_names == std::vector<std::string>{"a", "b"});
    CHECK(data.pixels(0, 5) == (299 * 200 + 587 * 100 + 114 * 50 + 500) / 1000);
    CHECK(data.pixels(1, 0) == 3);
    CHECK(data.pixels(1, 5) == 77);
    CHECK(std::abs(int(data.pixels(2, 1000)) - 128) <= 2);  // JPEG is lossy
}

TEST_CASE("load_image_folder reports or resizes images of another size", "[data][folder]") {
    const auto root = feral::test::scratch_dir("folder_resize");
    // 96x96 made of 2x2 blocks: area resizing to 48x48 recovers the blocks exactly.
    feral::Image<> big(96, 96);
    for (feral::Index y = 0; y < 96; ++y)
        for (feral::Index x = 0; x < 96; ++x) big(y, x) = static_cast<std::uint8_t>((y / 2 + 3 * (x / 2)) % 256);
    write(root / "a" / "big.png", big);
    write(root / "a" / "ok.png", face(9, 9));
    const auto cfg = feral::FolderLoadConfig{.class_order = feral::ClassOrder::folders};

    CHECK_THROWS_AS(feral::load_image_folder(root, cfg), feral::format_error);
    CHECK_THROWS_WITH(feral::load_image_folder(root, cfg), Catch::Contains("big.png") && Catch::Contains("96 x 96") &&
                                                                 Catch::Contains("expected 48 x 48"));
    auto skipping = cfg;
    skipping.on_error = feral::OnError::skip;
    const auto skipped = feral::load_image_folder(root, skipping);
    CHECK(skipped.data.size() == 1);
    REQUIRE(skipped.report.skipped.size() == 1);
    CHECK(fs::path(skipped.report.skipped[0].source).filename() == "big.png");

    auto area = cfg;
    area.resize = feral::Resize::area;
    const auto a = feral::load_image_folder(root, area).data;
    REQUIRE(a.size() == 2);
    bool exact = true;
    for (feral::Index y = 0; y < 48; ++y)
        for (feral::Index x = 0; x < 48; ++x) exact = exact && a.pixels(0, y * 48 + x) == (y + 3 * x) % 256;
    CHECK(exact);
    auto bilinear = cfg;
    bilinear.resize = feral::Resize::bilinear;
    const auto b = feral::load_image_folder(root, bilinear).data;
    // Bilinear at scale 2 samples between the two pixels of each block pair: (2y+0.5) -> rows 2y, 2y+1 equal.
    CHECK(b.pixels(0, 5 * 48 + 7) == (5 + 3 * 7) % 256);
}

TEST_CASE("resize enlarges with bilinear interpolation at OpenCV's pixel centres", "[data][folder]") {
    feral::Image<> img(1, 2);
    img(0, 0) = 0;
    img(0, 1) = 100;
    const auto out = feral::resize(img, 1, 4, feral::Interpolation::bilinear);
    // source x = (x + 0.5) / 2 - 0.5 = -0.25 (clamped 0), 0.25, 0.75, 1.25 (clamped 1)
    CHECK(out(0, 0) == 0);
    CHECK(out(0, 1) == 25);
    CHECK(out(0, 2) == 75);
    CHECK(out(0, 3) == 100);
    const auto area = feral::resize(img, 1, 1, feral::Interpolation::area);
    CHECK(area(0, 0) == 50);
    CHECK_THROWS_AS(feral::resize(img, 0, 3), feral::invalid_argument);
}

TEST_CASE("resize equals OpenCV's INTER_AREA when shrinking and its INTER_LINEAR to within one grey level", "[data][folder]") {
    const feral::test::Fixture fx(feral::test::fixture("data/resize.txt"));
    std::istringstream cases(fx.text("cases"));
    std::string name;
    int checked = 0;
    while (cases >> name) {
        INFO("case " << name);
        const auto in = fx.as<std::uint8_t>(name + "_in");
        const auto expected = fx.as<int>(name + "_out");
        feral::Image<> img(in.rows(), in.cols());
        std::copy(in.data(), in.data() + in.size(), img.data());
        const auto method = name.rfind("area", 0) == 0 ? feral::Interpolation::area : feral::Interpolation::bilinear;
        const auto out = feral::resize(img, expected.rows(), expected.cols(), method);
        REQUIRE(out.height() == expected.rows());
        REQUIRE(out.width() == expected.cols());
        int worst = 0, exact = 0;
        for (feral::Index y = 0; y < out.height(); ++y)
            for (feral::Index x = 0; x < out.width(); ++x) {
                const int diff = std::abs(static_cast<int>(out(y, x)) - expected(y, x));
                worst = std::max(worst, diff);
                exact += diff == 0;
            }
        INFO("worst difference " << worst << ", exact " << exact << " of " << out.size());
        if (method == feral::Interpolation::area) {
            CHECK(worst == 0);
        } else {
            // OpenCV's 8-bit INTER_LINEAR uses 11-bit fixed-point weights; we interpolate in
            // double and round once, so about one pixel in eight differs by one grey level.
            CHECK(worst <= 1);
            CHECK(exact >= out.size() * 8 / 10);
        }
        ++checked;
    }
    CHECK(checked == 5);
}

TEST_CASE("load_image_folder names corrupt and unreadable files, or skips them on request", "[data][folder]") {
    const auto root = make_layout("folder_corrupt");
    std::ofstream(root / "sad" / "broken.png", std::ios::binary) << "\x89PNG\r\n\x1a\n garbage";
    std::ofstream(root / "happy" / "empty.jpg", std::ios::binary);
    CHECK_THROWS_AS(feral::load_image_folder(root), feral::format_error);
    // The first bad file in load order (happy before sad) is the one reported, whatever the threads.
    CHECK_THROWS_WITH(feral::load_image_folder(root, {.n_threads = 1}), Catch::Contains("empty.jpg"));
    CHECK_THROWS_WITH(feral::load_image_folder(root, {.n_threads = 4}), Catch::Contains("empty.jpg"));
    const auto [data, report] = feral::load_image_folder(root, {.on_error = feral::OnError::skip});
    CHECK(data.size() == 14);
    REQUIRE(report.skipped_count() == 2);
    CHECK(fs::path(report.skipped[0].source).filename() == "empty.jpg");
    CHECK(fs::path(report.skipped[1].source).filename() == "broken.png");
    CHECK_THAT(report.skipped[1].reason, Catch::Contains("cannot decode"));
    CHECK(data.class_counts() == std::vector<feral::Index>(7, 2));
}

TEST_CASE("load_image_folder reports a file that cannot be opened as an io_error naming it", "[data][folder]") {
    const auto root = make_layout("folder_unreadable");
    fs::create_symlink(root / "nowhere.png", root / "neutral" / "dangling.png");
    CHECK_THROWS_AS(feral::load_image_folder(root), feral::io_error);
    CHECK_THROWS_WITH(feral::load_image_folder(root), Catch::Contains("cannot open") && Catch::Contains("dangling.png"));
    const auto [data, report] = feral::load_image_folder(root, {.on_error = feral::OnError::skip});
    CHECK(data.size() == 14);
    REQUIRE(report.skipped.size() == 1);
    CHECK(fs::path(report.skipped[0].source).filename() == "dangling.png");
}

TEST_CASE("load_image_folder rejects unknown, empty, missing and duplicate class folders", "[data][folder]") {
    SECTION("unknown folder name") {
        const auto root = make_layout("folder_unknown");
        write(root / "contempt" / "a.png", face(1, 1));
        CHECK_THROWS_AS(feral::load_image_folder(root), feral::format_error);
        CHECK_THROWS_WITH(feral::load_image_folder(root), Catch::Contains("contempt") && Catch::Contains("not a FER2013 class"));
        const auto r = feral::load_image_folder(root, {.on_error = feral::OnError::skip});
        CHECK(r.data.size() == 14);
        REQUIRE(r.report.skipped.size() == 1);
        CHECK_THAT(r.report.skipped[0].source, Catch::Contains("contempt"));
    }
    SECTION("empty class folder") {
        const auto root = make_layout("folder_empty");
        fs::remove_all(root / "fearful");
        fs::create_directories(root / "fearful");
        CHECK_THROWS_WITH(feral::load_image_folder(root), Catch::Contains("fearful") && Catch::Contains("no image files"));
        const auto r = feral::load_image_folder(root, {.on_error = feral::OnError::skip});
        CHECK(r.data.class_counts() == std::vector<feral::Index>{2, 2, 0, 2, 2, 2, 2});
        CHECK(r.report.skipped.size() == 1);
    }
    SECTION("missing class folder") {
        const auto root = make_layout("folder_missing");
        fs::remove_all(root / "disgusted");
        CHECK_THROWS_WITH(feral::load_image_folder(root), Catch::Contains("no folder for class 'disgust'"));
        const auto six = feral::load_image_folder(root, {.class_order = feral::ClassOrder::folders}).data;
        CHECK(six.class_names == std::vector<std::string>{"Surprised", "angry", "fearful", "happy", "neutral", "sad"});
    }
    SECTION("two spellings of one class") {
        const auto root = make_layout("folder_duplicate");
        write(root / "disgust" / "c.png", face(1, 1));
        CHECK_THROWS_WITH(feral::load_image_folder(root), Catch::Contains("are both class 'disgust'"));
    }
    SECTION("root is not a folder") {
        CHECK_THROWS_AS(feral::load_image_folder(feral::test::scratch_dir("folder_none") / "nope"), feral::io_error);
    }
    SECTION("impossible sizes") {
        CHECK_THROWS_AS(feral::load_image_folder(".", {.height = 0}), feral::invalid_argument);
    }
}

TEST_CASE("load_image_folder reads the FER2013 folders with the documented class counts", "[data][folder][fer2013]") {
    auto root = feral::test::fer2013_root("load_image_folder FER2013 counts");
    if (!root) return;
    const auto train = feral::load_image_folder(*root / "train");
    CHECK(train.data.class_counts() == std::vector<feral::Index>{3985, 439, 4093, 7187, 4772, 3140, 4928});
    CHECK(train.report.skipped.empty());
    CHECK(train.data.size() == 28544);
    const auto test = feral::load_image_folder(*root / "test");
    CHECK(test.data.class_counts() == std::vector<feral::Index>{467, 56, 494, 891, 652, 413, 604});
    // Row 0 is the first angry file by name; check its pixels against an independent decode.
    const auto first = feral::read_image(train.data.sources[0], feral::ColorMode::gray);
    CHECK(fs::path(train.data.sources[0]).parent_path().filename() == "angry");
    CHECK(std::equal(first.data(), first.data() + 48 * 48, train.data.pixels.row(0).data()));
}
