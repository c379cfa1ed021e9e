// Tests for feral/vision/haar_cascade.hpp against cv2.CascadeClassifier (OpenCV 4.6).
#include "feral/vision/haar_cascade.hpp"

#include "feral/data/image_io.hpp"
#include "feral/vision/resize.hpp"

#include "fixture_reader.hpp"
#include "test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <tuple>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

const std::filesystem::path kCascade = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml";

bool have_cascade() {
    if (std::filesystem::exists(kCascade)) return true;
    WARN("Debian's opencv-data is not installed (" << kCascade << "); cascade tests skipped");
    return false;
}

std::vector<feral::Rect> boxes_from(const Eigen::MatrixXd& m) {
    std::vector<feral::Rect> out;
    if (m.cols() != 4) return out;
    for (Eigen::Index i = 0; i < m.rows(); ++i)
        out.push_back(feral::Rect{static_cast<int>(m(i, 0)), static_cast<int>(m(i, 1)), static_cast<int>(m(i, 2)),
                                  static_cast<int>(m(i, 3))});
    return out;
}

/// Same count, and a one-to-one matching with IoU >= 0.8.
void check_same_faces(const std::vector<feral::Rect>& ours, const std::vector<feral::Rect>& opencv) {
    INFO("feral found " << ours.size() << ", OpenCV " << opencv.size());
    REQUIRE(ours.size() == opencv.size());
    std::vector<bool> used(ours.size(), false);
    for (const auto& want : opencv) {
        double best = 0;
        std::size_t best_index = 0;
        for (std::size_t i = 0; i < ours.size(); ++i)
            if (!used[i] && feral::iou(ours[i], want) > best) {
                best = feral::iou(ours[i], want);
                best_index = i;
            }
        INFO("OpenCV box " << want << ", best feral match IoU " << best);
        CHECK(best >= 0.8);
        if (best > 0) used[best_index] = true;
    }
}

feral::DetectParams params_row(const Eigen::MatrixXd& p, Eigen::Index k) {
    feral::DetectParams params;
    params.scale_factor = p(k, 0);
    params.min_neighbors = static_cast<int>(p(k, 1));
    params.min_width = params.min_height = static_cast<int>(p(k, 2));
    return params;
}

/// Rebuilds a composite from its recipe (see tools/fixtures/make_vision_fixtures.py).
feral::Image<std::uint8_t> composite(const std::filesystem::path& root, const std::string& recipe, int height, int width) {
    feral::Image<std::uint8_t> canvas(height, width);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x) canvas(y, x) = static_cast<std::uint8_t>(40 + (150 * (x + y)) / (width + height));
    std::istringstream lines(recipe);
    std::string name;
    int x = 0, y = 0, size = 0;
    while (lines >> name >> x >> y >> size) {
        auto face = feral::read_image(root / name, feral::ColorMode::gray);
        if (face.height() != size) face = feral::resize(face, size, size);
        for (int r = 0; r < size; ++r)
            for (int c = 0; c < size; ++c) canvas(y + r, x + c) = face(r, c);
    }
    return canvas;
}

}  // namespace

TEST_CASE("OpenCV's frontal-face cascade loads with its stages, stumps and features", "[vision][haar]") {
    if (!have_cascade()) return;
    const auto cascade = feral::HaarCascade::load(kCascade);
    CHECK(cascade.window_width() == 24);
    CHECK(cascade.window_height() == 24);
    CHECK(cascade.stages().size() == 25);
    CHECK(cascade.features().size() == 2913);
    CHECK(cascade.stages().front().trees.size() == 9);
    CHECK(cascade.stages().front().threshold == Approx(-5.0425500869750977 - 1e-5).epsilon(1e-7));
    CHECK_FALSE(cascade.has_tilted_features());
    // Every new-format Haar cascade Debian ships loads, tilted features and trees included.
    int loaded = 0;
    for (const auto& entry : std::filesystem::directory_iterator(kCascade.parent_path())) {
        const auto name = entry.path().filename().string();
        if (name == "haarcascade_licence_plate_rus_16stages.xml") {
            CHECK_THROWS_WITH(feral::HaarCascade::load(entry.path()), Catch::Contains("old-format"));
            continue;
        }
        INFO(name);
        CHECK_NOTHROW(feral::HaarCascade::load(entry.path()));
        ++loaded;
    }
    CHECK(loaded >= 10);
}

TEST_CASE("detect finds the faces OpenCV finds in messi5.jpg", "[vision][haar]") {
    if (!have_cascade()) return;
    const feral::test::Fixture fx(feral::test::fixture("vision/detect.txt"));
    const std::filesystem::path photo = fx.text("messi5_file");
    if (!std::filesystem::exists(photo)) {
        WARN("Debian's opencv-doc is not installed (" << photo << "); photo test skipped");
        return;
    }
    const auto cascade = feral::HaarCascade::load(kCascade);
    const auto gray = feral::read_image(photo, feral::ColorMode::gray);
    const auto& params = fx.matrix("params");
    for (Eigen::Index k = 0; k < params.rows(); ++k) {
        INFO("parameter set " << k);
        const auto p = params_row(params, k);
        // One pass for the raw candidates; grouping and clipping them is detect().
        const auto candidates = cascade.detect_candidates(gray, p);
        check_same_faces(feral::clip_rectangles(feral::group_rectangles(candidates, p.min_neighbors),
                                                static_cast<int>(gray.width()), static_cast<int>(gray.height())),
                         boxes_from(fx.matrix("messi5_boxes_" + std::to_string(k))));
        // Raw candidates: our JPEG decoder (stb) differs from libjpeg by a grey level here
        // and there, so counts agree closely rather than exactly.
        const double ours = static_cast<double>(candidates.size());
        const double theirs = fx.scalar("messi5_candidates_" + std::to_string(k));
        CHECK(std::abs(ours - theirs) <= 0.25 * theirs + 2);
    }
}

TEST_CASE("detect finds the FER2013 faces OpenCV finds in composites", "[vision][haar][fer2013]") {
    auto root = feral::test::fer2013_root("detect finds the FER2013 faces OpenCV finds in composites");
    if (!root) return;
    if (!have_cascade()) return;
    const feral::test::Fixture fx(feral::test::fixture("vision/detect.txt"));
    const auto cascade = feral::HaarCascade::load(kCascade);
    const auto& params = fx.matrix("params");
    for (const std::string key : {"composite_a", "composite_b"}) {
        const auto& size = fx.matrix(key + "_size");
        const auto image = composite(*root, fx.text(key + "_recipe"), static_cast<int>(size(0)), static_cast<int>(size(1)));
        for (Eigen::Index k = 0; k < params.rows(); ++k) {
            INFO(key << ", parameter set " << k);
            auto p = params_row(params, k);
            const auto candidates = cascade.detect_candidates(image, p);
            auto faces = feral::clip_rectangles(feral::group_rectangles(candidates, p.min_neighbors),
                                                static_cast<int>(image.width()), static_cast<int>(image.height()));
            auto expected = boxes_from(fx.matrix(key + "_boxes_" + std::to_string(k)));
            check_same_faces(faces, expected);
            CHECK(faces.size() >= 3);
            // Same pixels in, same boxes out: the replication is exact (order aside).
            auto order = [](std::vector<feral::Rect>& v) {
                std::sort(v.begin(), v.end(), [](const feral::Rect& a, const feral::Rect& b) {
                    return std::tie(a.x, a.y, a.width, a.height) < std::tie(b.x, b.y, b.width, b.height);
                });
            };
            order(faces);
            order(expected);
            CHECK(faces == expected);
            CHECK(static_cast<double>(candidates.size()) == fx.scalar(key + "_candidates_" + std::to_string(k)));
        }
    }
}

TEST_CASE("detection does not depend on the thread count", "[vision][haar]") {
    if (!have_cascade()) return;
    const feral::test::Fixture fx(feral::test::fixture("vision/detect.txt"));
    const std::filesystem::path photo = fx.text("messi5_file");
    if (!std::filesystem::exists(photo)) return;
    const auto cascade = feral::HaarCascade::load(kCascade);
    auto gray = feral::resize(feral::read_image(photo, feral::ColorMode::gray), 171, 274);
    feral::DetectParams p;
    p.min_neighbors = 0;
    p.n_threads = 1;
    const auto one = cascade.detect(gray, p);
    CHECK_FALSE(one.empty());
    CHECK(one == feral::clip_rectangles(cascade.detect_candidates(gray, p), 274, 171));
    for (int threads : {2, 3, 7}) {
        p.n_threads = threads;
        CHECK(cascade.detect(gray, p) == one);
    }
}

TEST_CASE("group_rectangles merges similar boxes and drops weak and nested groups", "[vision][haar]") {
    const std::vector<feral::Rect> rects = {
        {100, 100, 50, 50}, {102, 101, 50, 50}, {98, 99, 52, 52}, {101, 100, 49, 49},  // a strong group of 4
        {300, 40, 30, 30},  {302, 41, 30, 30},                                         // a weak group of 2
        {112, 112, 20, 20}, {113, 112, 20, 20}, {112, 113, 20, 20}};                   // nested group of 3
    const auto grouped = feral::group_rectangles(rects, 1);
    // The strong group averages to (100, 100, 50, 50); the nested group lies inside
    // it and is weaker, so it is dropped; the pair survives threshold 1.
    REQUIRE(grouped.size() == 2);
    CHECK(grouped[0] == feral::Rect{100, 100, 50, 50});
    CHECK(grouped[1] == feral::Rect{301, 40, 30, 30});
    CHECK(feral::group_rectangles(rects, 2).size() == 1);
    CHECK(feral::group_rectangles(rects, 0) == rects);  // no grouping at threshold 0
    CHECK(feral::iou(feral::Rect{0, 0, 10, 10}, feral::Rect{5, 0, 10, 10}) == Approx(50.0 / 150.0));
}

TEST_CASE("malformed, truncated and foreign cascade files are format errors naming file and element", "[vision][haar]") {
    const auto dir = feral::test::scratch_dir("haar_bad_files");
    auto write = [&](const std::string& name, const std::string& text) {
        std::ofstream(dir / name) << text;
        return dir / name;
    };
    CHECK_THROWS_AS(feral::HaarCascade::load(dir / "missing.xml"), feral::io_error);
    CHECK_THROWS_WITH(feral::HaarCascade::load(write("empty.xml", "")), Catch::Contains("empty.xml") && Catch::Contains("empty"));
    CHECK_THROWS_WITH(feral::HaarCascade::load(write("other.xml", "<?xml version=\"1.0\"?><html><body/></html>")),
                      Catch::Contains("other.xml") && Catch::Contains("<html>"));
    const std::string lbp =
        "<opencv_storage><cascade><stageType>BOOST</stageType><featureType>LBP</featureType>"
        "<height>24</height><width>24</width></cascade></opencv_storage>";
    CHECK_THROWS_WITH(feral::HaarCascade::load(write("lbp.xml", lbp)), Catch::Contains("LBP"));
    const std::string bad_feature =
        "<opencv_storage><cascade><stageType>BOOST</stageType><featureType>HAAR</featureType>"
        "<height>24</height><width>24</width><stages><_><stageThreshold>-1</stageThreshold><weakClassifiers>"
        "<_><internalNodes>0 -1 7 0.5</internalNodes><leafValues>1 -1</leafValues></_></weakClassifiers></_></stages>"
        "<features><_><rects><_>0 0 4 4 -1.</_><_>0 0 2 4 2.</_></rects></_></features></cascade></opencv_storage>";
    CHECK_THROWS_WITH(feral::HaarCascade::load(write("feature.xml", bad_feature)),
                      Catch::Contains("feature.xml") && Catch::Contains("feature 7"));
    const std::string outside =
        "<opencv_storage><cascade><stageType>BOOST</stageType><featureType>HAAR</featureType>"
        "<height>24</height><width>24</width><stages/>"
        "<features><_><rects><_>20 0 8 4 -1.</_></rects></_></features></cascade></opencv_storage>";
    CHECK_THROWS_WITH(feral::HaarCascade::load(write("outside.xml", outside)), Catch::Contains("outside the 24 x 24 window"));
    if (have_cascade()) {
        std::ifstream in(kCascade);
        const std::string full{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
        const auto truncated = write("truncated.xml", full.substr(0, full.size() / 2));
        CHECK_THROWS_WITH(feral::HaarCascade::load(truncated),
                          Catch::Contains("truncated.xml") && Catch::Contains("truncated file"));
        const auto cascade = feral::HaarCascade::load(kCascade);
        feral::DetectParams p;
        p.scale_factor = 1.0;
        CHECK_THROWS_WITH(cascade.detect(feral::Image<std::uint8_t>(50, 50), p), Catch::Contains("scale_factor"));
        CHECK_THROWS_WITH(cascade.detect(feral::Image<std::uint8_t>(), {}), Catch::Contains("empty image"));
        CHECK_THROWS_WITH(cascade.detect(feral::Image<std::uint8_t>(50, 50, 3), {}), Catch::Contains("3 channels"));
        p = {};
        p.min_neighbors = -1;
        CHECK_THROWS_AS(cascade.detect(feral::Image<std::uint8_t>(50, 50), p), feral::invalid_argument);
        // An image smaller than the window has no detections (not an error).
        CHECK(cascade.detect(feral::Image<std::uint8_t>(20, 30), {}).empty());
    }
}
