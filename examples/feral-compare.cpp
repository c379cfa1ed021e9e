// feral-compare — feral's main job: runs the five published comparisons of classifiers
// for facial-expression recognition (examples/studies/study1..5) one after another and
// prints one combined table of our accuracies beside the published ones.
//
//   feral-compare                                   all five on the built-in synthetic faces
//   feral-compare --study 2 --study 4               only those studies
//   feral-compare --train fer2013/train --test fer2013/test --json results.json --report out
//
// It takes every option a single study takes (study_common.hpp). With --json FILE it
// writes {"studies": [{"study", "title", "models": [...], "seconds"}, ...]}; with
// --report DIR it writes one report per study into DIR/studyN/ and an index page
// DIR/index.html with the combined table. A study that fails is reported and the others
// still run; the exit code is then 1.
#include "studies/study1_three_models.hpp"
#include "studies/study2_eight_models.hpp"
#include "studies/study3_tuned_cnn.hpp"
#include "studies/study4_cnn_vs_baselines.hpp"
#include "studies/study5_five_models.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

namespace {

using StudyFunction = study::Study (*)(const study::Options&);

struct StudyEntry {
    int number;
    StudyFunction run;
};

const std::vector<StudyEntry> kStudies = {
    {1, study::run_study1}, {2, study::run_study2}, {3, study::run_study3},
    {4, study::run_study4}, {5, study::run_study5},
};

struct Completed {
    study::Study study;
    double seconds;
};

std::string signed_points(double ours, double published) {
    if (!std::isfinite(ours) || !std::isfinite(published)) return "-";
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%+.1f", 100.0 * (ours - published));
    return buffer;
}

/// One row per model of every study: the table the README shows.
std::vector<std::vector<std::string>> combined_rows(const std::vector<Completed>& done) {
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : done)
        for (const auto& m : c.study.models())
            rows.push_back({std::to_string(c.study.number()), m.name, study::percent(m.accuracy),
                            study::percent(m.published), signed_points(m.accuracy, m.published),
                            study::seconds_text(m.fit_seconds)});
    return rows;
}

void print_combined_table(const std::vector<Completed>& done) {
    std::printf("\n== feral-compare: all studies ==\n%-5s %-40s %8s %10s %8s %10s\n", "study", "model", "test",
                "published", "diff", "fit");
    for (const auto& row : combined_rows(done))
        std::printf("%-5s %-40s %8s %10s %8s %10s\n", row[0].c_str(), row[1].c_str(), row[2].c_str(), row[3].c_str(),
                    row[4].c_str(), row[5].c_str());
    for (const auto& c : done)
        std::printf("study %d (%s) took %s\n", c.study.number(), c.study.title().c_str(),
                    study::seconds_text(c.seconds).c_str());
}

void write_index(const std::filesystem::path& dir, const std::vector<Completed>& done, feral::Overwrite overwrite) {
    feral::HtmlReport index("feral-compare: five FER2013 comparison studies");
    index.heading("All models (test accuracy; diff = ours - published, in points)");
    index.table({"study", "model", "test", "published", "diff", "fit"}, combined_rows(done));
    index.heading("Reports");
    for (const auto& c : done)
        index.link("study" + std::to_string(c.study.number()) + "/index.html",
                   "Study " + std::to_string(c.study.number()) + ": " + c.study.title() + " (" +
                       study::seconds_text(c.seconds) + ")");
    std::cout << "report: " << index.write(dir, overwrite).string() << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app("feral-compare: the five FER2013 classifier comparison studies, one combined table");
    study::Options options;
    study::add_options(app, options);
    std::vector<int> selected;
    app.add_option("--study", selected, "run only this study (1-5; repeat for several)")->check(CLI::Range(1, 5));
    try {
        app.parse(argc, argv);
        study::validate(options);
        // Refuse before hours of work, not after: the index page must be new too.
        if (!options.report_dir.empty() && !options.overwrite &&
            std::filesystem::exists(std::filesystem::path(options.report_dir) / "index.html"))
            throw CLI::ValidationError("--report " + options.report_dir +
                                       " already holds a report (add --overwrite to replace it)");
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    if (selected.empty())
        for (const auto& s : kStudies) selected.push_back(s.number);
    std::sort(selected.begin(), selected.end());
    selected.erase(std::unique(selected.begin(), selected.end()), selected.end());

    const auto overwrite = options.overwrite ? feral::Overwrite::yes : feral::Overwrite::no;
    std::vector<Completed> done;
    int failures = 0;
    for (int number : selected) {
        std::cout << "\n######## Study " << number << " ########\n" << std::flush;
        // Each study sees the shared options; the driver writes JSON and reports itself
        // (one file for all studies), and each study's report goes into its own folder.
        study::Options one = options;
        one.json_path.clear();
        if (!options.report_dir.empty())
            one.report_dir = (std::filesystem::path(options.report_dir) / ("study" + std::to_string(number))).string();
        try {
            study::Stopwatch clock;
            study::Study result = kStudies[static_cast<std::size_t>(number - 1)].run(one);
            const double seconds = clock.seconds();
            std::cout << result.summary();
            if (!one.report_dir.empty()) result.write_report(one.report_dir, overwrite);
            done.push_back({std::move(result), seconds});
        } catch (const std::exception& e) {
            std::cerr << "error in study " << number << ": " << e.what() << "\n";
            ++failures;
        }
    }

    print_combined_table(done);
    try {
        if (!options.json_path.empty()) {
            nlohmann::json all = {{"studies", nlohmann::json::array()}};
            for (const auto& c : done) {
                nlohmann::json j = c.study.to_json();
                j["seconds"] = c.seconds;
                all["studies"].push_back(std::move(j));
            }
            study::Study::write_json_file(options.json_path, all, overwrite);
            std::cout << "json: " << options.json_path << "\n";
        }
        if (!options.report_dir.empty()) write_index(options.report_dir, done, overwrite);
        for (const auto& c : done) c.study.remove_finished_files();  // only now are the results safe
    } catch (const feral::error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
    if (failures > 0) std::cerr << failures << " of " << selected.size() << " studies failed (see above)\n";
    return failures > 0 ? 1 : 0;
}
