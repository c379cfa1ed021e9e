#include <feral/report/charts.hpp>
#include <feral/report/html_report.hpp>

#include <catch2/catch.hpp>

#include "test_support.hpp"

#include <fstream>
#include <sstream>

TEST_CASE("base64 encodes the RFC 4648 test vectors", "[report]") {
    auto b64 = [](std::string s) { return feral::base64_encode(std::vector<unsigned char>(s.begin(), s.end())); };
    CHECK(b64("") == "");
    CHECK(b64("f") == "Zg==");
    CHECK(b64("fo") == "Zm8=");
    CHECK(b64("foo") == "Zm9v");
    CHECK(b64("foob") == "Zm9vYg==");
    CHECK(b64("fooba") == "Zm9vYmE=");
    CHECK(b64("foobar") == "Zm9vYmFy");
}

TEST_CASE("Report text is HTML-escaped so labels cannot break the page", "[report]") {
    CHECK(feral::html_escape("<a href=\"x\">&'") == "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    feral::HtmlReport report("A <title>");
    report.table({"model", "accuracy"}, {{"<CNN>", "50%"}});
    const auto html = report.html();
    CHECK(html.find("<CNN>") == std::string::npos);
    CHECK(html.find("&lt;CNN&gt;") != std::string::npos);
    CHECK_THROWS_AS(report.table({"a", "b"}, {{"only one"}}), feral::invalid_argument);
}

TEST_CASE("A confusion matrix heat map has one cell per pair with its count", "[report]") {
    feral::Matrix<feral::Index> cm(2, 2);
    cm << 5, 1, 2, 7;
    const auto svg = feral::confusion_matrix_svg(cm, {"happy", "sad"}, "CNN");
    CHECK(svg.rfind("<svg", 0) == 0);
    std::size_t rects = 0;
    for (auto at = svg.find("<rect"); at != std::string::npos; at = svg.find("<rect", at + 1)) ++rects;
    CHECK(rects == 4);
    CHECK(svg.find("true sad, predicted happy: 2") != std::string::npos);
    CHECK_THROWS_AS(feral::confusion_matrix_svg(cm, {"one"}, "bad"), feral::invalid_argument);
}

TEST_CASE("Charts reject series that do not fit and draw those that do", "[report]") {
    CHECK_THROWS_AS(feral::bar_chart_svg({"a", "b"}, {{"precision", {0.5}}}, "bad"), feral::invalid_argument);
    CHECK_THROWS_AS(feral::line_chart_svg({{"loss", {}}}, "empty", "epoch", "loss"), feral::invalid_argument);
    const auto line = feral::line_chart_svg({{"loss", {1.0, 0.5, 0.25}}, {"val_loss", {1.1, 0.7, 0.6}, true}}, "curves", "epoch", "loss");
    CHECK(line.find("stroke-dasharray") != std::string::npos);
    CHECK(line.find("val_loss") != std::string::npos);
}

TEST_CASE("The heat map image maps the smallest value dark and the largest bright", "[report]") {
    feral::Vector<double> v(4);
    v << 0.0, 1.0, 0.5, 0.25;
    const auto image = feral::heatmap_image(v, 2, 2, 3);
    REQUIRE(image.height() == 6);
    REQUIRE(image.channels() == 3);
    const int dark = image(0, 0, 0) + image(0, 0, 1) + image(0, 0, 2);
    const int bright = image(0, 3, 0) + image(0, 3, 1) + image(0, 3, 2);
    CHECK(bright > dark + 200);
}

TEST_CASE("A face grid frames right predictions green and wrong ones red", "[report]") {
    feral::PixelMatrix faces = feral::PixelMatrix::Constant(2, 16, 128);
    feral::Labels predicted(2), truth(2);
    predicted << 0, 1;
    truth << 0, 0;
    const auto svg = feral::face_grid_svg(faces, 4, 4, predicted, truth, {"angry", "happy"});
    CHECK(svg.find("#1a9641") != std::string::npos);
    CHECK(svg.find("#d7191c") != std::string::npos);
    CHECK(svg.find("happy / angry") != std::string::npos);
}

TEST_CASE("Writing a report creates index.html and never overwrites one silently", "[report]") {
    const auto dir = feral::test::scratch_dir("report_write");
    feral::HtmlReport report("test");
    report.paragraph("hello");
    const auto path = report.write(dir);
    CHECK(std::filesystem::exists(path));
    CHECK_THROWS_AS(report.write(dir), feral::io_error);
    CHECK_NOTHROW(report.write(dir, feral::Overwrite::yes));
}
