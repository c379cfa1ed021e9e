// feral/nn/search_journal.hpp — a text file that records each finished trial of a random
// search, so that a search interrupted after hours resumes where it stopped instead of
// training its finished trials again.
//
// Why: study 3's search on FER2013 is 9-14 hours of training on 2 cores. A trial's
// result depends only on the search's seed, space, epochs, validation fraction, the data
// and its image shape, and feral's training code (RandomSearch draws trial t from the seed
// alone), so a finished trial can be read back instead of re-trained, and the resumed
// search returns exactly what an uninterrupted one would (only the wall-clock seconds are
// the recorded ones). The journal records all of these but the code: after upgrading
// feral, start a new journal.
//
// File layout (UTF-8 text, one record per line, the trial fields separated by tabs):
//   feral random-search journal v1
//   search <seed, epochs per trial, validation fraction, classes, number type>
//   space <every list of the search space>
//   data <rows> x <columns> as <image shape>, checksum <FNV-1a 64 of the pixels and labels>
//   # trial  val_accuracy  val_loss  train_accuracy  parameters  seconds  configuration
//   trial 4<TAB>0.5123<TAB>1.2874<TAB>0.4871<TAB>1253127<TAB>1831.2<TAB>conv 64 32 32 32 ...
// Numbers are written in their shortest exact form (std::to_chars), so they read back bit
// for bit. Trials are appended in the order they finish, each line handed to the operating
// system at once (it survives the process being killed; not a power cut). A trial whose
// training diverged is recorded with validation loss inf and accuracy 0.
//
// Safety: the file is opened for appending before any trial trains, so a path that cannot
// be written fails at once, not after hours. A journal whose search, space or data lines
// differ from this search's is never reused or overwritten (invalid_argument names the
// file, the line and both versions); a malformed line (for example the last line of a run
// killed mid-write) is a format_error naming the file and line. The user decides what to
// remove.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <locale>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace feral::nn {

/// One finished trial as the journal stores it (the configuration as its description).
struct JournalEntry {
    int index = 0;  ///< 0-based trial number; the file shows it 1-based
    double val_accuracy = 0;
    double val_loss = 0;
    double train_accuracy = 0;
    Index parameters = 0;
    double seconds = 0;
    std::string config;  ///< CnnConfig::describe() of the trial's configuration
};

/// The shortest text that reads back as exactly `v`.
[[nodiscard]] inline std::string exact_text(double v) {
    char buffer[32];
    const auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, v);
    return std::string(buffer, ec == std::errc{} ? end : buffer);
}

class SearchJournal {
public:
    /// The lines that identify a search; two searches with the same identity train the
    /// same trials to the same results.
    struct Identity {
        std::string search;  ///< seed, epochs, validation fraction, classes
        std::string space;   ///< every list of the search space
        std::string data;    ///< shape and checksum of the data searched on
    };

    /// Opens the journal at `path`: reads the trials it holds if it exists (checking that it
    /// records this search), or creates it with this search's header; either way it stays
    /// open for appending.
    SearchJournal(std::filesystem::path path, const Identity& identity) : path_(std::move(path)) {
        std::error_code ec;
        const auto status = std::filesystem::status(path_, ec);
        const bool exists = std::filesystem::exists(status);
        if (exists && !std::filesystem::is_regular_file(status))
            detail::fail("SearchJournal: ", path_.string(), " exists and is not a regular file (a directory?)");
        const bool fresh = !exists || std::filesystem::file_size(path_, ec) == 0;
        if (!fresh) read(identity);
        out_.imbue(std::locale::classic());  // from_chars reads it back, whatever the global locale
        out_.open(path_, fresh ? std::ios::trunc : std::ios::app);
        if (!out_) detail::fail<io_error>("SearchJournal: cannot open ", path_.string(), " for writing");
        if (fresh) {
            out_ << kMagic << "\nsearch " << identity.search << "\nspace " << identity.space << "\ndata "
                 << identity.data << '\n' << kColumns << '\n' << std::flush;
            if (!out_) detail::fail<io_error>("SearchJournal: cannot write ", path_.string());
        }
    }

    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

    /// The trials finished by earlier runs, by trial index.
    [[nodiscard]] const std::map<int, JournalEntry>& finished() const { return finished_; }

    /// Appends one finished trial and hands it to the operating system at once.
    void record(const JournalEntry& e) {
        if (finished_.contains(e.index))
            detail::fail("SearchJournal::record: trial ", e.index + 1, " is already in ", path_.string());
        if (e.config.find_first_of("\t\n") != std::string::npos)
            detail::fail("SearchJournal::record: the configuration of trial ", e.index + 1, " contains a tab or newline");
        out_ << "trial " << e.index + 1 << '\t' << exact_text(e.val_accuracy) << '\t' << exact_text(e.val_loss) << '\t'
             << exact_text(e.train_accuracy) << '\t' << e.parameters << '\t' << exact_text(e.seconds) << '\t'
             << e.config << '\n'
             << std::flush;
        if (!out_) detail::fail<io_error>("SearchJournal::record: cannot append to ", path_.string());
        finished_.emplace(e.index, e);
    }

private:
    static constexpr std::string_view kMagic = "feral random-search journal v1";
    static constexpr std::string_view kColumns =
        "# trial\tval_accuracy\tval_loss\ttrain_accuracy\tparameters\tseconds\tconfiguration";

    void read(const Identity& id) {
        std::ifstream in(path_, std::ios::binary);
        if (!in) detail::fail<io_error>("SearchJournal: cannot read ", path_.string());
        std::stringstream whole;
        whole << in.rdbuf();
        const std::string text = whole.str();
        std::vector<std::string> lines;
        std::istringstream stream(text);
        for (std::string line; std::getline(stream, line);) {
            if (!line.empty() && line.back() == '\r') line.pop_back();  // a file edited into CRLF
            lines.push_back(line);
        }
        if (lines.empty() || lines[0] != kMagic)
            detail::fail<format_error>("SearchJournal: ", path_.string(), " line 1 is not '", kMagic,
                                       "': not a feral search journal (give the search another file)");
        if (text.back() != '\n')
            detail::fail<format_error>("SearchJournal: the last line of ", path_.string(), " (line ", lines.size(),
                                       ") is incomplete (the run writing it was stopped mid-line?); remove that "
                                       "line to resume");
        if (lines.size() < 4)
            detail::fail<format_error>("SearchJournal: ", path_.string(), "'s header ends at line ", lines.size(),
                                       "; it needs 4 lines (magic, search, space, data)");
        expect_same(lines[1], "search " + id.search, 2);
        expect_same(lines[2], "space " + id.space, 3);
        expect_same(lines[3], "data " + id.data, 4);
        for (std::size_t n = 4; n < lines.size(); ++n) {
            if (lines[n].empty() || lines[n].front() == '#') continue;
            JournalEntry e = parse_trial(lines[n], n + 1);
            if (finished_.contains(e.index))
                detail::fail<format_error>("SearchJournal: ", path_.string(), " line ", n + 1, " records trial ",
                                           e.index + 1, " a second time");
            finished_.emplace(e.index, std::move(e));
        }
    }

    void expect_same(const std::string& found, const std::string& expected, std::size_t line) const {
        if (found != expected)
            detail::fail("SearchJournal: ", path_.string(), " records a different search (line ", line, " is '", found,
                         "', this search's is '", expected,
                         "'); give this search another journal file, or remove that one to start over");
    }

    JournalEntry parse_trial(const std::string& line, std::size_t number) const {
        std::vector<std::string_view> fields;
        std::string_view rest(line);
        for (std::size_t tab; (tab = rest.find('\t')) != std::string_view::npos && fields.size() < 6;) {
            fields.push_back(rest.substr(0, tab));
            rest.remove_prefix(tab + 1);
        }
        fields.push_back(rest);
        auto bad = [&](std::string_view what) {
            detail::fail<format_error>("SearchJournal: ", path_.string(), " line ", number, ": ", what, " in '", line,
                                       "'");
        };
        if (fields.size() != 7 || !fields[0].starts_with("trial ")) bad("expected 'trial N' and six tab-separated fields");
        JournalEntry e;
        auto number_of = [&](std::string_view text, auto& value, std::string_view name) {
            const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
            if (ec != std::errc{} || end != text.data() + text.size()) bad(std::string(name) + " is not a number");
        };
        int shown = 0;
        number_of(fields[0].substr(6), shown, "the trial number");
        if (shown < 1) bad("the trial number must be >= 1");
        e.index = shown - 1;
        number_of(fields[1], e.val_accuracy, "val_accuracy");
        number_of(fields[2], e.val_loss, "val_loss");
        number_of(fields[3], e.train_accuracy, "train_accuracy");
        number_of(fields[4], e.parameters, "parameters");
        number_of(fields[5], e.seconds, "seconds");
        if (!(e.val_accuracy >= 0 && e.val_accuracy <= 1) || !(e.train_accuracy >= 0 && e.train_accuracy <= 1))
            bad("an accuracy outside [0, 1]");
        if (std::isnan(e.val_loss) || e.val_loss < 0) bad("val_loss must be >= 0 (inf for a diverged trial)");
        if (e.parameters < 0) bad("parameters must be >= 0");
        if (!std::isfinite(e.seconds) || e.seconds < 0) bad("seconds must be finite and >= 0");
        e.config = std::string(fields[6]);
        return e;
    }

    std::filesystem::path path_;
    std::ofstream out_;
    std::map<int, JournalEntry> finished_;
};

}  // namespace feral::nn
