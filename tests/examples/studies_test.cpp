// The five comparison studies (examples/studies) run end to end on the built-in
// synthetic faces in their --quick variant, report every model completely, are
// reproducible, and write a report that a real browser renders.
#include "studies/study1_three_models.hpp"
#include "studies/study2_eight_models.hpp"
#include "studies/study3_tuned_cnn.hpp"
#include "studies/study4_cnn_vs_baselines.hpp"
#include "studies/study5_five_models.hpp"
#include "test_support.hpp"

#include <feral/data/image_io.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

namespace {

study::Options quick_options() {
    study::Options o;
    o.quick = true;
    o.seed = 7;
    return o;
}

/// What every study must deliver for every model, whatever the data.
void check_study(const study::Study& s, int number) {
    INFO("study " << number);
    CHECK(s.number() == number);
    REQUIRE_FALSE(s.models().empty());
    double best = 0;
    for (const auto& m : s.models()) {
        INFO("model " << m.name);
        REQUIRE(std::isfinite(m.accuracy));
        CHECK(m.accuracy >= 0.0);
        CHECK(m.accuracy <= 1.0);
        CHECK(std::isfinite(m.macro_f1));
        CHECK(m.fit_seconds >= 0.0);
        CHECK(m.predict_seconds >= 0.0);
        const feral::Index k = m.confusion.rows();
        REQUIRE(k >= 6);
        REQUIRE(m.confusion.cols() == k);
        CHECK(m.confusion.sum() == m.predictions.size());
        CHECK(static_cast<feral::Index>(m.f1.size()) == k);
        // The accuracy is the confusion matrix's diagonal share: one source of truth.
        CHECK(m.accuracy == Approx(static_cast<double>(m.confusion.trace()) / static_cast<double>(m.confusion.sum())));
        for (const auto& e : m.history) CHECK(std::isfinite(e.loss));
        best = std::max(best, m.accuracy);
    }
    // On the synthetic faces the best model of every study is clearly better than chance.
    const double chance = 1.0 / static_cast<double>(s.models().front().confusion.rows());
    CHECK(best > chance + 0.1);

    const nlohmann::json j = s.to_json();
    CHECK(j.at("study") == number);
    REQUIRE(j.at("models").size() == s.models().size());
    for (const auto& m : j.at("models")) {
        for (const char* key : {"name", "accuracy", "macro_f1", "fit_seconds", "predict_seconds", "confusion_matrix"})
            CHECK(m.contains(key));
    }
}

bool any_network(const study::Study& s) {
    for (const auto& m : s.models())
        if (!m.history.empty()) return true;
    return false;
}

}  // namespace

TEST_CASE("Study 1 (three models, 6 classes) runs on synthetic faces", "[examples][study1]") {
    const auto s = study::run_study1(quick_options());
    check_study(s, 1);
    CHECK(any_network(s));
    CHECK(s.models().front().confusion.rows() == 6);  // disgust dropped
}

TEST_CASE("Study 2 (eight models) runs on synthetic faces", "[examples][study2]") {
    const auto s = study::run_study2(quick_options());
    check_study(s, 2);
    CHECK(any_network(s));
    CHECK(s.models().size() >= 8);
    // The study's order: carve first, and the data note does not mention --balance-first.
    REQUIRE_FALSE(s.notes().empty());
    CHECK_THAT(s.notes().front(), Catch::Contains("sets carved from the training set") &&
                                      !Catch::Contains("--balance-first"));
}

TEST_CASE("Study 2 with --balance-first balances before carving and says so", "[examples][study2]") {
    study::Options o = quick_options();
    o.balance_first = true;
    const auto s = study::run_study2(o);
    check_study(s, 2);
    REQUIRE_FALSE(s.notes().empty());
    CHECK_THAT(s.notes().front(), Catch::Contains("--balance-first: the whole training set balanced to") &&
                                      Catch::Contains("flattered by design"));
    bool said = false;
    for (const auto& note : s.notes()) said = said || note.find("(done here, --balance-first)") != std::string::npos;
    CHECK(said);
}

TEST_CASE("Study 3 (tuned deep CNN) runs on synthetic faces, and resumes its search from a journal",
          "[examples][study3]") {
    study::Options o = quick_options();
    o.search_journal = (feral::test::scratch_dir("study3_journal") / "search.journal").string();
    const auto s = study::run_study3(o);
    check_study(s, 3);
    CHECK(any_network(s));
    auto notes_saying = [](const study::Study& st, const std::string& text) {
        int n = 0;
        for (const auto& note : st.notes()) n += note.find(text) != std::string::npos ? 1 : 0;
        return n;
    };
    CHECK(notes_saying(s, ", read back from the journal)") == 0);

    // The same run again: both --quick trials are read back, and the study ends the same.
    const auto resumed = study::run_study3(o);
    CHECK(notes_saying(resumed, ", read back from the journal)") == 2);
    CHECK(notes_saying(resumed, "2 of them trained by an earlier run") == 1);
    REQUIRE(resumed.models().size() == 1);
    CHECK(resumed.models().front().accuracy == s.models().front().accuracy);
    CHECK(resumed.models().front().note == s.models().front().note);  // the same best, search seconds as recorded
}

TEST_CASE("Study 3 with --skip-search trains the study's published configuration", "[examples][study3]") {
    study::Options o = quick_options();
    o.skip_search = true;
    const auto s = study::run_study3(o);
    check_study(s, 3);
    REQUIRE(s.models().size() == 1);
    const auto& m = s.models().front();
    CHECK(m.name == "Published best CNN (no search)");
    // The published best: blocks 32, 128, 128, 32 of two convolutions, one dense layer of 64.
    CHECK_THAT(m.note, Catch::Contains("conv 32 128 128 32 (x2 per block) k3") && Catch::Contains("dense 64 bn"));
    CHECK(m.history.size() == 5);  // --quick's final epochs, no trial epochs
}

TEST_CASE("A shortfall note says by how much, with a second decimal for tiny gaps", "[examples][shortfall]") {
    auto result = [](double accuracy, double published) {
        study::ModelResult r;
        r.accuracy = accuracy;
        r.published = published;
        r.confusion = feral::Matrix<feral::Index>::Constant(7, 7, 50);  // 2,450 test images
        return r;
    };
    auto tiny = result(0.4115, 0.412);
    study::explain_shortfall(tiny, "one seed");
    CHECK_THAT(tiny.note, Catch::Contains("0.05 points below") && Catch::Contains("within two standard errors") &&
                              Catch::EndsWith(": one seed"));
    auto large = result(0.469, 0.525);
    study::explain_shortfall(large);
    CHECK(large.note == "5.6 points below the published figure");
    auto above = result(0.55, 0.525);
    study::explain_shortfall(above, "never shown");
    CHECK(above.note.empty());
}

TEST_CASE("A study's printed summary carries each shortfall and keeps long names in their column",
          "[examples][shortfall]") {
    study::Study s(4, "Summary check", {"a", "b"});
    s.set_beside_published(true);
    study::ModelResult short_of_it;
    short_of_it.name = "CNN without class weights (an unusually long model name)";
    short_of_it.accuracy = 0.469;
    short_of_it.published = 0.525;
    short_of_it.confusion = feral::Matrix<feral::Index>::Constant(2, 2, 500);
    short_of_it.shortfall_reason = "the weights cost 3 points";
    s.add(short_of_it);
    study::ModelResult plain;
    plain.name = "GNB";
    s.add(plain);
    s.note("a study note");

    const std::string text = s.summary();
    CHECK_THAT(text, Catch::Contains(short_of_it.name + ": 5.6 points below the published figure: the weights cost 3 points"));
    CHECK_THAT(text, Catch::Contains("note: a study note"));
    // Every row of the table puts its columns at the same place, however long a name is.
    std::istringstream table(s.table());
    std::string header, first, second;
    std::getline(table, header);
    std::getline(table, first);
    std::getline(table, second);
    CHECK(first.size() == header.size());
    CHECK(second.size() == header.size());
    CHECK(header.find("train") > short_of_it.name.size());
}

TEST_CASE("Study 4 (CNN against baselines) runs on synthetic faces", "[examples][study4]") {
    const auto s = study::run_study4(quick_options());
    check_study(s, 4);
    CHECK(any_network(s));
    CHECK(s.models().size() >= 4);
}

TEST_CASE("Study 5 (five models and the improved CNN) runs on synthetic faces", "[examples][study5]") {
    const auto s = study::run_study5(quick_options());
    check_study(s, 5);
    CHECK(any_network(s));
    CHECK(s.models().size() >= 6);
}

TEST_CASE("A study gives the same results for the same seed", "[examples][determinism]") {
    const auto a = study::run_study4(quick_options());
    const auto b = study::run_study4(quick_options());
    REQUIRE(a.models().size() == b.models().size());
    for (std::size_t i = 0; i < a.models().size(); ++i) {
        INFO(a.models()[i].name);
        CHECK(a.models()[i].accuracy == b.models()[i].accuracy);
        CHECK((a.models()[i].predictions.array() == b.models()[i].predictions.array()).all());
    }
}

TEST_CASE("A study report is self-contained HTML and never overwritten silently", "[examples][report]") {
    const auto dir = feral::test::scratch_dir("study_report");
    const auto s = study::run_study1(quick_options());
    s.write_report(dir, feral::Overwrite::no);
    std::ifstream in(dir / "index.html");
    std::stringstream html;
    html << in.rdbuf();
    const std::string page = html.str();
    CHECK(page.find("<svg") != std::string::npos);                      // charts
    CHECK(page.find("data:image/png;base64,") != std::string::npos);    // pictures inline
    CHECK(page.find("src=\"http") == std::string::npos);                // nothing fetched
    CHECK_THROWS_AS(s.write_report(dir, feral::Overwrite::no), feral::io_error);
}

TEST_CASE("The report's sample faces are taken from each class in turn", "[examples][report]") {
    // A test set stored class by class (as FER2013's folders are) must not fill the grid
    // with its first class: the i-th face of every class comes before the (i+1)-th of any.
    const feral::Labels by_class = (feral::Labels(7) << 0, 0, 0, 1, 1, 2, 2).finished();
    CHECK(study::sample_rows(by_class, 4) == std::vector<feral::Index>{0, 3, 5, 1});
    CHECK(study::sample_rows(by_class, 24) == std::vector<feral::Index>{0, 3, 5, 1, 4, 6, 2});
    // A class with no test images is passed over.
    const feral::Labels gap = (feral::Labels(3) << 2, 0, 2).finished();
    CHECK(study::sample_rows(gap, 3) == std::vector<feral::Index>{1, 0, 2});
    CHECK(study::sample_rows(feral::Labels(0), 24).empty());
}

// Rendered by Debian's chromium (installed by ./quickstart.sh test); reported as
// skipped where it is not installed.
TEST_CASE("A study report renders in headless Chromium to a picture that is not blank", "[chromium]") {
    const char* chromium = "/usr/bin/chromium";
    if (!std::filesystem::exists(chromium)) {
        std::cout << "SKIPPED: " << chromium << " is not installed (apt-get install chromium)\n";
        return;
    }
    const auto dir = feral::test::scratch_dir("study_report_chromium");
    study::run_study1(quick_options()).write_report(dir, feral::Overwrite::no);
    const auto shot = dir / "screenshot.png";
    const std::string command = std::string(chromium) +
                                " --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,2000"
                                " --screenshot=" + shot.string() + " file://" + (dir / "index.html").string() +
                                " > " + (dir / "chromium.log").string() + " 2>&1";
    INFO(command);
    REQUIRE(std::system(command.c_str()) == 0);
    REQUIRE(std::filesystem::exists(shot));
    const auto image = feral::read_image(shot, feral::ColorMode::rgb);
    CHECK(image.width() == 1280);
    // Not blank: a good share of the page is ink (text, tables, heat maps), in many colours.
    feral::Index ink = 0;
    std::set<int> colours;
    const auto* p = image.data();
    const feral::Index pixels = image.height() * image.width();
    for (feral::Index i = 0; i < pixels; ++i, p += 3) {
        if (p[0] < 200 || p[1] < 200 || p[2] < 200) ++ink;
        colours.insert((p[0] >> 3) << 10 | (p[1] >> 3) << 5 | (p[2] >> 3));
    }
    INFO("ink share " << static_cast<double>(ink) / static_cast<double>(pixels) << ", colours " << colours.size());
    CHECK(static_cast<double>(ink) / static_cast<double>(pixels) > 0.03);
    CHECK(colours.size() > 50);
}
