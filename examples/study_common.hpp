// examples/study_common.hpp — what the five comparison studies share: command-line
// options, loading the data (built-in synthetic faces, a FER2013 folder layout, or the
// original CSV), timing a model, and presenting results (a table on the terminal, a
// JSON file, an HTML report with pictures).
//
// A study program reads top to bottom as:
//   auto options = study::parse_options(argc, argv, "Study 1: ...");
//   auto data = study::load_data(options);                 // train + test Datasets
//   study::Study study(1, "Three models", data.train.class_names);
//   study.add(study::evaluate_classifier("Random forest", model, X_train, y_train, X_test, y_test, 39.8));
//   study.finish(options);                                 // table, JSON, report
#pragma once

#include <feral/core/error.hpp>
#include <feral/core/threads.hpp>
#include <feral/core/types.hpp>
#include <feral/data/csv_loader.hpp>
#include <feral/data/dataset.hpp>
#include <feral/data/folder_loader.hpp>
#include <feral/data/synthetic_faces.hpp>
#include <feral/metrics/classification_report.hpp>
#include <feral/metrics/confusion_matrix.hpp>
#include <feral/nn/history.hpp>
#include <feral/report/charts.hpp>
#include <feral/report/html_report.hpp>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace study {

using feral::Index;
using feral::Labels;
using feral::Matrix;

/// The options every study accepts (and feral-compare passes on).
struct Options {
    std::string train_dir;    ///< Kaggle folder layout: train/<class>/*.png
    std::string test_dir;     ///< Kaggle folder layout: test/<class>/*.png
    std::string csv;          ///< the original fer2013.csv (emotion,pixels,Usage)
    std::uint64_t seed = 42;
    int threads = 0;          ///< 0 = FERAL_NUM_THREADS or all cores
    bool quick = false;       ///< a fast variant (CI): fewer epochs, trees and samples
    std::string json_path;    ///< write machine-readable results here
    std::string report_dir;   ///< write an HTML report (index.html) here
    bool overwrite = false;   ///< allow replacing an existing JSON file / report
    bool skip_search = false; ///< study 3: train the published best configuration, no random search
    bool balance_first = false; ///< study 2: balance the training set BEFORE carving (the leaky order)
    std::string search_journal; ///< study 3: file recording finished search trials, to resume an interrupted search

    /// True when no real data was given: the study runs on the built-in synthetic faces.
    [[nodiscard]] bool synthetic() const { return train_dir.empty() && csv.empty(); }
};

/// Adds the shared options to a CLI11 app.
inline void add_options(CLI::App& app, Options& o) {
    app.add_option("--train", o.train_dir, "training images, Kaggle folder layout (train/<class>/*.png)")->check(CLI::ExistingDirectory);
    app.add_option("--test", o.test_dir, "test images, Kaggle folder layout")->check(CLI::ExistingDirectory);
    app.add_option("--csv", o.csv, "the original fer2013.csv (emotion,pixels,Usage)")->check(CLI::ExistingFile);
    app.add_option("--seed", o.seed, "random seed (same seed, same results)");
    app.add_option("--threads", o.threads, "threads (0 = FERAL_NUM_THREADS or all cores)")->check(CLI::NonNegativeNumber);
    app.add_flag("--quick", o.quick, "fast variant: fewer epochs, trees and samples");
    app.add_option("--json", o.json_path, "write results as JSON to this file");
    app.add_option("--report", o.report_dir, "write an HTML report (index.html) into this directory");
    app.add_flag("--overwrite", o.overwrite, "replace an existing --json file or report");
    app.add_flag("--skip-search", o.skip_search,
                 "study 3 only: train the study's published best configuration without the random search");
    app.add_flag("--balance-first", o.balance_first,
                 "study 2 only: balance the training set before carving its validation and test sets, so over-sampled "
                 "copies of a face can fall on both sides (an experiment; the study carves first)");
    app.add_option("--search-journal", o.search_journal,
                   "study 3 only: record each finished random-search trial in this file, and back up the trial in "
                   "training and the final training beside it after every epoch; run again with the same file to "
                   "resume an interrupted study (finished trials are read back, an interrupted one resumes at its "
                   "last finished epoch)");
}

/// Checks combinations CLI11 cannot express.
inline void validate(const Options& o) {
    if (!o.train_dir.empty() != !o.test_dir.empty())
        throw CLI::ValidationError("--train and --test go together");
    if (!o.csv.empty() && !o.train_dir.empty())
        throw CLI::ValidationError("give either --train/--test or --csv, not both");
    if (!o.search_journal.empty() && o.skip_search)
        throw CLI::ValidationError("--search-journal records the random search, which --skip-search leaves out");
    if (!o.json_path.empty() && !o.overwrite && std::filesystem::exists(o.json_path))
        throw CLI::ValidationError("--json " + o.json_path + " exists (add --overwrite to replace it)");
}

/// Seconds since construction (steady clock).
class Stopwatch {
public:
    [[nodiscard]] double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }

private:
    std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

/// One training epoch of a network, for curves.
struct EpochRecord {
    double loss = NAN, accuracy = NAN, val_loss = NAN, val_accuracy = NAN;
};

/// Everything reported about one model.
struct ModelResult {
    std::string name;
    double accuracy = NAN;            ///< test accuracy in [0, 1]
    double macro_f1 = NAN;
    double train_accuracy = NAN;      ///< where the study reports it
    double validation_accuracy = NAN;
    double fit_seconds = NAN;
    double predict_seconds = NAN;
    double published = NAN;           ///< the paper's accuracy in [0, 1], NaN if none
    std::string note;                 ///< e.g. the settings used
    /// What is known of why our figure may fall short of the published one; Study::add
    /// appends it, with the size of the gap, when the study runs on real data.
    std::string shortfall_reason;
    Matrix<Index> confusion;          ///< rows true, columns predicted
    std::vector<double> precision, recall, f1;  ///< per class
    std::vector<EpochRecord> history;
    Labels predictions;               ///< on the test set (for the sample grid)
};

/// A network's per-epoch history in the form the report draws.
inline std::vector<EpochRecord> epoch_records(const feral::nn::History& h) {
    std::vector<EpochRecord> out;
    for (Index e = 0; e < h.epochs(); ++e) {
        const auto i = static_cast<std::size_t>(e);
        out.push_back({h.loss[i], h.accuracy[i], h.val_loss[i], h.val_accuracy[i]});
    }
    return out;
}

/// When r is below its published accuracy, appends to its note by how much, whether
/// that is within the test set's sampling noise, and, if given, what else is known of
/// why: "...; 0.8 points below the published figure, within two standard errors (1.7
/// points) of a 3521-image test set: why".
inline void explain_shortfall(ModelResult& r, const std::string& why = {}) {
    if (!(r.accuracy < r.published)) return;  // also false when there is no published figure
    const double gap = 100.0 * (r.published - r.accuracy);
    const double n = static_cast<double>(r.confusion.sum());
    // A test accuracy is a proportion over n images: its standard error is sqrt(p(1-p)/n).
    const double two_se = n > 0 ? 200.0 * std::sqrt(r.published * (1.0 - r.published) / n) : NAN;
    // A gap under a tenth of a point gets a second decimal, so that it never reads "0.0 points below".
    const int decimals = gap < 0.1 ? 2 : 1;
    char text[160];
    if (gap <= two_se)
        std::snprintf(text, sizeof text, "%.*f points below the published figure, within two standard errors (%.1f points) "
                      "of a %.0f-image test set", decimals, gap, two_se, n);
    else
        std::snprintf(text, sizeof text, "%.*f points below the published figure", decimals, gap);
    r.note += (r.note.empty() ? "" : "; ") + std::string(text) + (why.empty() ? "" : ": " + why);
}

/// The rows of up to `count` test images for the report's grid of sample faces, taken from
/// each class in turn (the i-th image of every class before the (i+1)-th of any). A test set
/// stored class by class, as FER2013's folders are, would otherwise fill the grid with its
/// first class alone.
inline std::vector<Index> sample_rows(const Labels& labels, Index count) {
    std::vector<std::vector<Index>> by_class;
    for (Index i = 0; i < labels.size(); ++i) {
        const auto k = static_cast<std::size_t>(labels[i]);
        if (k >= by_class.size()) by_class.resize(k + 1);
        by_class[k].push_back(i);
    }
    std::vector<Index> rows;
    for (std::size_t depth = 0; static_cast<Index>(rows.size()) < std::min(count, labels.size()); ++depth)
        for (const auto& members : by_class)
            if (depth < members.size() && static_cast<Index>(rows.size()) < count) rows.push_back(members[depth]);
    return rows;
}

inline std::string percent(double v) {
    if (!std::isfinite(v)) return "-";
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, "%.1f%%", 100.0 * v);
    return buffer;
}

inline std::string seconds_text(double v) {
    if (!std::isfinite(v)) return "-";
    char buffer[16];
    std::snprintf(buffer, sizeof buffer, v < 10 ? "%.2f s" : "%.0f s", v);
    return buffer;
}


// ---- data -------------------------------------------------------------------

/// The train and test data of a run, and where they came from.
struct Data {
    feral::Dataset train;
    feral::Dataset test;
    std::string description;
};

/// Synthetic faces per class in the default (no-download) mode; --quick uses fewer.
struct SyntheticSize {
    Index train_per_class = 600;
    Index test_per_class = 150;
};

/// Loads --train/--test folders, or --csv (Training part for train, PublicTest for test),
/// or, with neither, generates the built-in synthetic faces (train and test drawn with
/// different seeds, so no face is in both).
inline Data load_data(const Options& o, SyntheticSize size = {}) {
    Data d;
    Stopwatch clock;
    if (!o.train_dir.empty()) {
        feral::FolderLoadConfig config;
        config.n_threads = o.threads;
        d.train = feral::load_image_folder(o.train_dir, config).data;
        d.test = feral::load_image_folder(o.test_dir, config).data;
        d.description = "FER2013 folders " + o.train_dir + " and " + o.test_dir;
    } else if (!o.csv.empty()) {
        feral::CsvLoadConfig config;
        config.n_threads = o.threads;
        auto csv = feral::load_fer2013_csv(o.csv, config);
        d.train = std::move(csv.training);
        d.test = std::move(csv.public_test);
        d.description = "FER2013 CSV " + o.csv + " (Training / PublicTest)";
    } else {
        if (o.quick) size = {size.train_per_class / 2, size.test_per_class / 2};
        feral::SyntheticFacesConfig config;
        config.n_threads = o.threads;
        d.train = feral::make_synthetic_faces(size.train_per_class, o.seed, config);
        d.test = feral::make_synthetic_faces(size.test_per_class, o.seed + 1000003, config);
        d.description = "built-in synthetic faces (" + std::to_string(d.train.size()) + " train, " +
                        std::to_string(d.test.size()) + " test; no download needed)";
    }
    std::cout << "data: " << d.description << ", loaded in " << seconds_text(clock.seconds()) << "\n";
    return d;
}

// ---- evaluation -----------------------------------------------------------------

/// Fills accuracy, macro F1, the confusion matrix and per-class scores from predictions.
inline void score(ModelResult& r, const Labels& truth, const Labels& predicted, Index n_classes) {
    std::vector<int> labels(static_cast<std::size_t>(n_classes));
    for (Index k = 0; k < n_classes; ++k) labels[static_cast<std::size_t>(k)] = static_cast<int>(k);
    r.predictions = predicted;
    r.accuracy = static_cast<double>((truth.array() == predicted.array()).count()) / static_cast<double>(truth.size());
    const auto scores = feral::precision_recall_fscore_support(truth, predicted, labels);
    r.macro_f1 = scores.average(feral::Average::macro).f1;
    r.precision = scores.precision;
    r.recall = scores.recall;
    r.f1 = scores.f1;
    r.confusion = feral::confusion_matrix(truth, predicted, labels).counts;
}

/// Fits `model` on (X_train, y_train), predicts X_test, and times both.
template <class Model, class XTrain, class XTest>
ModelResult evaluate(const std::string& name, Model& model, const XTrain& X_train, const Labels& y_train, const XTest& X_test,
                     const Labels& y_test, Index n_classes, double published = NAN) {
    ModelResult r;
    r.name = name;
    r.published = published;
    std::cout << "  " << name << ": fitting on " << X_train.rows() << " samples..." << std::flush;
    Stopwatch fit_clock;
    model.fit(X_train, y_train);
    r.fit_seconds = fit_clock.seconds();
    Stopwatch predict_clock;
    const Labels predicted = model.predict(X_test);
    r.predict_seconds = predict_clock.seconds();
    score(r, y_test, predicted, n_classes);
    std::cout << " accuracy " << percent(r.accuracy) << " (fit " << seconds_text(r.fit_seconds) << ", predict "
              << seconds_text(r.predict_seconds) << ")\n";
    return r;
}

// ---- presenting -------------------------------------------------------------------

/// Extra pictures a study adds to its report.
struct Picture {
    std::string caption;
    std::string svg;                          ///< either SVG markup...
    feral::Image<std::uint8_t> png;           ///< ...or an image
    int scale = 1;
};

class Study {
public:
    Study(int number, std::string title, std::vector<std::string> class_names)
        : number_(number), title_(std::move(title)), class_names_(std::move(class_names)) {}

    /// On real data (not the synthetic faces) our figures stand beside the published ones:
    /// add() then explains every shortfall (see explain_shortfall).
    void set_beside_published(bool on) { beside_published_ = on; }
    void add(ModelResult r) {
        if (beside_published_) explain_shortfall(r, r.shortfall_reason);
        models_.push_back(std::move(r));
    }
    void note(std::string text) { notes_.push_back(std::move(text)); }
    void picture(Picture p) { pictures_.push_back(std::move(p)); }
    /// Test images to show with each model's predictions in the report's sample grid.
    void samples(const feral::Dataset& test) { samples_ = test; }
    /// A file kept only until the results are written (a training backup): finish() (or a
    /// driver, through remove_finished_files) removes it then, so a run killed before that
    /// resumes instead of training again.
    void remove_when_finished(std::filesystem::path path) { remove_when_finished_.push_back(std::move(path)); }

    [[nodiscard]] int number() const { return number_; }
    [[nodiscard]] const std::string& title() const { return title_; }
    [[nodiscard]] const std::vector<ModelResult>& models() const { return models_; }
    [[nodiscard]] const std::vector<std::string>& notes() const { return notes_; }

    /// The results table as text; the model column is as wide as the longest name.
    [[nodiscard]] std::string table() const {
        int name_width = 34;
        for (const auto& m : models_) name_width = std::max(name_width, static_cast<int>(m.name.size()));
        std::string out;
        char line[512];
        std::snprintf(line, sizeof line, "%-*s %9s %9s %9s %9s %9s %10s %10s\n", name_width, "model", "train", "valid",
                      "test", "published", "macro F1", "fit", "predict");
        out += line;
        for (const auto& m : models_) {
            std::snprintf(line, sizeof line, "%-*s %9s %9s %9s %9s %9s %10s %10s\n", name_width, m.name.c_str(),
                          percent(m.train_accuracy).c_str(), percent(m.validation_accuracy).c_str(),
                          percent(m.accuracy).c_str(), percent(m.published).c_str(),
                          std::isfinite(m.macro_f1) ? (std::to_string(m.macro_f1).substr(0, 5)).c_str() : "-",
                          seconds_text(m.fit_seconds).c_str(), seconds_text(m.predict_seconds).c_str());
            out += line;
        }
        return out;
    }

    /// What a run prints at its end: the heading, the table, each model's note (where it is
    /// below its published figure, by how much and why) and the study's notes.
    [[nodiscard]] std::string summary() const {
        std::string out = "\n== Study " + std::to_string(number_) + ": " + title_ + " ==\n" + table();
        for (const auto& m : models_)
            if (!m.note.empty()) out += m.name + ": " + m.note + "\n";
        for (const auto& n : notes_) out += "note: " + n + "\n";
        return out;
    }

    [[nodiscard]] nlohmann::json to_json() const {
        nlohmann::json models = nlohmann::json::array();
        auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
        for (const auto& m : models_) {
            nlohmann::json j;
            j["name"] = m.name;
            j["accuracy"] = number(m.accuracy);
            j["macro_f1"] = number(m.macro_f1);
            j["train_accuracy"] = number(m.train_accuracy);
            j["validation_accuracy"] = number(m.validation_accuracy);
            j["published_accuracy"] = number(m.published);
            j["fit_seconds"] = number(m.fit_seconds);
            j["predict_seconds"] = number(m.predict_seconds);
            if (!m.note.empty()) j["note"] = m.note;
            nlohmann::json cm = nlohmann::json::array();
            for (Index i = 0; i < m.confusion.rows(); ++i) {
                nlohmann::json row = nlohmann::json::array();
                for (Index k = 0; k < m.confusion.cols(); ++k) row.push_back(m.confusion(i, k));
                cm.push_back(row);
            }
            j["confusion_matrix"] = cm;
            if (!m.history.empty()) {
                nlohmann::json h = nlohmann::json::array();
                for (std::size_t e = 0; e < m.history.size(); ++e)
                    h.push_back({{"epoch", e + 1}, {"loss", number(m.history[e].loss)},
                                 {"accuracy", number(m.history[e].accuracy)}, {"val_loss", number(m.history[e].val_loss)},
                                 {"val_accuracy", number(m.history[e].val_accuracy)}});
                j["history"] = h;
            }
            models.push_back(j);
        }
        return {{"study", number_}, {"title", title_}, {"classes", class_names_}, {"notes", notes_}, {"models", models}};
    }

    /// Writes the self-contained HTML report into `dir`.
    void write_report(const std::filesystem::path& dir, feral::Overwrite overwrite) const {
        feral::HtmlReport report("Study " + std::to_string(number_) + ": " + title_);
        report.heading("Results");
        std::vector<std::vector<std::string>> rows;
        for (const auto& m : models_)
            rows.push_back({m.name, percent(m.train_accuracy), percent(m.validation_accuracy), percent(m.accuracy),
                            percent(m.published), std::isfinite(m.macro_f1) ? std::to_string(m.macro_f1).substr(0, 5) : "-",
                            seconds_text(m.fit_seconds), seconds_text(m.predict_seconds)});
        report.table({"model", "train", "validation", "test", "published", "macro F1", "fit", "predict"}, rows);
        for (const auto& n : notes_) report.paragraph(n);

        report.heading("Confusion matrices (rows: true class; colour: share of the row)");
        report.begin_row();
        for (const auto& m : models_)
            if (m.confusion.size() > 0) report.svg(feral::confusion_matrix_svg(m.confusion, class_names_, m.name));
        report.end_row();

        report.heading("Per-class precision, recall and F1");
        report.begin_row();
        for (const auto& m : models_)
            if (!m.f1.empty())
                report.svg(feral::bar_chart_svg(class_names_, {{"precision", m.precision}, {"recall", m.recall}, {"F1", m.f1}}, m.name));
        report.end_row();

        bool any_history = false;
        for (const auto& m : models_) any_history |= !m.history.empty();
        if (any_history) {
            report.heading("Training curves");
            report.begin_row();
            for (const auto& m : models_) {
                if (m.history.empty()) continue;
                std::vector<double> loss, val_loss, acc, val_acc;
                for (const auto& e : m.history)
                    loss.push_back(e.loss), val_loss.push_back(e.val_loss), acc.push_back(e.accuracy), val_acc.push_back(e.val_accuracy);
                report.svg(feral::line_chart_svg({{"train", loss}, {"validation", val_loss, true}}, m.name + ": loss", "epoch", "loss"));
                report.svg(feral::line_chart_svg({{"train", acc}, {"validation", val_acc, true}}, m.name + ": accuracy", "epoch", "accuracy"));
            }
            report.end_row();
        }

        if (!pictures_.empty()) {
            report.heading("Pictures");
            report.begin_row();
            for (const auto& p : pictures_) {
                if (!p.svg.empty()) report.svg(p.svg, p.caption);
                else report.png(p.png, p.caption, p.scale);
            }
            report.end_row();
        }

        if (!samples_.empty()) {
            report.heading("Sample test faces: predicted / true (green right, red wrong)");
            const std::vector<Index> rows = sample_rows(samples_.labels, 24);
            const Labels truth = samples_.labels(rows);
            for (const auto& m : models_) {
                if (m.predictions.size() != samples_.size()) continue;
                report.heading(m.name, 3);
                report.svg(feral::face_grid_svg(samples_.pixels(rows, Eigen::all), samples_.shape.height,
                                                samples_.shape.width, m.predictions(rows), truth, class_names_));
            }
        }
        const auto path = report.write(dir, overwrite);
        std::cout << "report: " << path.string() << "\n";
    }

    /// Prints the table and notes, and writes --json / --report as asked.
    void finish(const Options& o) const {
        std::cout << summary();
        const auto overwrite = o.overwrite ? feral::Overwrite::yes : feral::Overwrite::no;
        if (!o.json_path.empty()) write_json_file(o.json_path, to_json(), overwrite);
        if (!o.report_dir.empty()) write_report(o.report_dir, overwrite);
        remove_finished_files();
    }

    /// Removes the files kept until the results were written (remove_when_finished); a
    /// driver that writes the results itself calls it once it has.
    void remove_finished_files() const {
        for (const auto& path : remove_when_finished_) {
            std::error_code ec;
            std::filesystem::remove(path, ec);
            if (ec) std::cerr << "warning: cannot remove '" << path.string() << "': " << ec.message() << "\n";
        }
    }

    static void write_json_file(const std::string& path, const nlohmann::json& j, feral::Overwrite overwrite) {
        if (overwrite == feral::Overwrite::no && std::filesystem::exists(path))
            feral::detail::fail<feral::io_error>("refusing to overwrite '", path, "' (add --overwrite)");
        std::ofstream out(path, std::ios::trunc);
        if (!out) feral::detail::fail<feral::io_error>("cannot write '", path, "'");
        out << j.dump(2) << "\n";
    }

private:
    bool beside_published_ = false;
    int number_;
    std::string title_;
    std::vector<std::string> class_names_;
    std::vector<ModelResult> models_;
    std::vector<std::string> notes_;
    std::vector<Picture> pictures_;
    feral::Dataset samples_;
    std::vector<std::filesystem::path> remove_when_finished_;
};

/// Runs a study's main: parses options, runs `body`, and turns errors into a message and exit code 1.
template <class Body>
int run_main(int argc, char** argv, const std::string& description, Body&& body) {
    CLI::App app(description);
    Options options;
    add_options(app, options);
    try {
        app.parse(argc, argv);
        validate(options);
    } catch (const CLI::ParseError& e) {
        return app.exit(e);
    }
    try {
        const Study study = body(options);
        study.finish(options);
        return 0;
    } catch (const feral::error& e) {
        std::cerr << "error: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace study
