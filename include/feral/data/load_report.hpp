// feral/data/load_report.hpp — what a loader skipped, and why.
//
// Loaders (load_image_folder, load_fer2013_csv) throw on the first bad item by default.
// With `on_error = OnError::skip` they leave bad items out instead and list each one here
// (its source — a file path or "file.csv:line 12" — and the reason), so nothing is dropped
// silently.
#pragma once

#include "feral/core/types.hpp"

#include <string>
#include <vector>

namespace feral {

/// What a loader does with a bad item (unreadable or corrupt file, wrong size, bad value).
enum class OnError {
    raise,  ///< throw format_error / io_error naming the item (default)
    skip,   ///< leave it out and record it in the LoadReport
};

/// One item a loader left out.
struct SkippedItem {
    std::string source;  ///< file path, or "file.csv:line N"
    std::string reason;  ///< the message the error would have carried
};

struct LoadReport {
    Index loaded = 0;                  ///< items kept
    std::vector<SkippedItem> skipped;  ///< items left out (OnError::skip), in load order
    std::vector<std::string> ignored;  ///< files that are not images by extension (folder loader)

    [[nodiscard]] Index skipped_count() const { return static_cast<Index>(skipped.size()); }
};

}  // namespace feral
