// feral/data/folder_loader.hpp — loading a data set stored as one folder per class.
//
// Layout: root/<class>/<image files>, e.g. FER2013's train/angry/fer0000032.png.
//   * Image files are *.png, *.jpg, *.jpeg, *.bmp (any letter case), decoded with stb_image
//     (feral::decode_image); colour files are converted to gray with BT.601 luma. Other files,
//     nested folders and hidden folders in root (".ipynb_checkpoints") are not loaded and are
//     listed in LoadReport::ignored.
//   * Class folders: with ClassOrder::fer2013 (default) or ClassOrder::keras every folder must
//     be one of the seven expressions in either spelling (disgust/disgusted, fear/fearful,
//     surprise/surprised, any case), all seven must be present, and labels follow the CSV order
//     fer2013_class_names() or Keras' alphabetical keras_class_names(). With
//     ClassOrder::folders any folder names are accepted, used as they are, sorted.
//   * Images that are not height x width (48 x 48 by default) are errors unless
//     `resize` asks for Resize::bilinear or Resize::area (see vision/resize.hpp).
//   * Order: by class index, then by file name (byte order) — the same for every thread
//     count. Dataset::sources holds each image's path.
//   * Errors: an unreadable file -> io_error, an undecodable file or a wrong size ->
//     format_error, an unknown, duplicate, missing or empty class folder -> format_error;
//     each names the file or folder. With on_error = OnError::skip, bad files, unknown and
//     empty folders are left out and listed in the report instead (a missing or duplicate
//     class, or a root that is not a folder, still throws: the class list would be wrong).
//
// Example:
//   auto [train, report] = feral::load_image_folder("/data/fer2013/train");
//   auto faces = feral::load_image_folder("photos", {.resize = feral::Resize::area,
//                                                    .on_error = feral::OnError::skip}).data;
//
// Performance: files are read and decoded in parallel (n_threads, 0 = FERAL_NUM_THREADS or
// all cores), each thread reusing one read buffer; rows are written in place, so the result
// needs no merge. The 28,544 FER2013 training PNGs (about 1.2 KB each) decode at roughly
// 20 microseconds per file per core.
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/huge_pages.hpp"
#include "feral/core/threads.hpp"
#include "feral/core/types.hpp"
#include "feral/data/class_names.hpp"
#include "feral/data/dataset.hpp"
#include "feral/data/image_io.hpp"
#include "feral/data/load_report.hpp"
#include "feral/vision/resize.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <exception>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace feral {

/// How class folders become class indices.
enum class ClassOrder {
    fer2013,  ///< FER2013 CSV order (angry, disgust, fear, happy, sad, surprise, neutral); both spellings
    keras,    ///< alphabetical (angry, disgust, fear, happy, neutral, sad, surprise); both spellings
    folders,  ///< any folder names, as they are, sorted (byte order)
};

/// What to do with images of another size than height x width.
enum class Resize {
    no,        ///< report them (error, or skipped with OnError::skip)
    bilinear,  ///< resize with Interpolation::bilinear
    area,      ///< resize with Interpolation::area (best for shrinking)
};

struct FolderLoadConfig {
    ClassOrder class_order = ClassOrder::fer2013;
    Index height = 48;  ///< image height every image must have (or is resized to)
    Index width = 48;   ///< image width
    Resize resize = Resize::no;
    OnError on_error = OnError::raise;
    bool keep_sources = true;  ///< fill Dataset::sources with each file's path
    int n_threads = 0;         ///< 0 = FERAL_NUM_THREADS or all cores
};

/// A loaded data set and what was skipped or ignored on the way.
struct LoadedDataset {
    Dataset data;
    LoadReport report;
};

namespace detail {

inline bool has_image_extension(const std::filesystem::path& file) {
    std::string ext = file.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp";
}

/// Reads the file `name` inside the open folder `folder_fd` into `buffer` (grown, never
/// shrunk, so one buffer serves a whole thread) and returns its size. POSIX openat + fstat +
/// read + close: four system calls per file, and no path walk from the root for each file.
/// Throws io_error naming `path`.
inline std::size_t read_file_in(int folder_fd, const char* name, const std::string& path, std::vector<unsigned char>& buffer) {
    const int fd = ::openat(folder_fd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail<io_error>("load_image_folder: cannot open '", path, "': ", std::strerror(errno));
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        const int err = errno;
        ::close(fd);
        fail<io_error>("load_image_folder: cannot read '", path, "': ", std::strerror(err));
    }
    std::size_t size = 0;
    std::size_t capacity = static_cast<std::size_t>(info.st_size) + 1;  // +1: a file that grew shows up as a full buffer
    for (;;) {
        if (buffer.size() < capacity) buffer.resize(capacity);
        const ::ssize_t got = ::read(fd, buffer.data() + size, capacity - size);
        if (got < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            ::close(fd);
            fail<io_error>("load_image_folder: cannot read '", path, "': ", std::strerror(err));
        }
        size += static_cast<std::size_t>(got);
        if (got == 0 || size < capacity) break;
        capacity *= 2;  // the file is larger than fstat said: keep reading
    }
    ::close(fd);
    return size;
}

/// An open folder descriptor, closed on destruction.
class FolderHandle {
public:
    explicit FolderHandle(const std::filesystem::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) {
        if (fd_ < 0) fail<io_error>("load_image_folder: cannot open folder '", path.string(), "': ", std::strerror(errno));
    }
    FolderHandle(const FolderHandle&) = delete;
    FolderHandle& operator=(const FolderHandle&) = delete;
    ~FolderHandle() { ::close(fd_); }
    [[nodiscard]] int fd() const { return fd_; }

private:
    int fd_;
};

struct ClassFolder {
    int label;
    std::filesystem::path path;
};

}  // namespace detail

namespace detail {
inline LoadedDataset load_image_folder_impl(const std::filesystem::path& root, const FolderLoadConfig& config) {
    namespace fs = std::filesystem;
    constexpr const char* where = "load_image_folder";
    if (config.height < 1 || config.width < 1)
        detail::fail(where, ": image size ", config.height, " x ", config.width, " must be at least 1 x 1");
    (void)resolve_threads(config.n_threads);
    std::error_code ec;
    if (!fs::is_directory(root, ec)) detail::fail<io_error>(where, ": '", root.string(), "' is not a folder");

    LoadedDataset result;
    LoadReport& report = result.report;
    Dataset& data = result.data;
    const bool skip = config.on_error == OnError::skip;

    // 1. class folders, sorted by name so messages and the `folders` order are stable.
    std::vector<fs::path> folders;
    for (const auto& entry : fs::directory_iterator(root)) {
        const bool hidden = entry.path().filename().string().starts_with('.');
        if (entry.is_directory() && !hidden) folders.push_back(entry.path());
        else report.ignored.push_back(entry.path().string());
    }
    std::sort(folders.begin(), folders.end());
    std::vector<detail::ClassFolder> classes;
    if (config.class_order == ClassOrder::folders) {
        for (const auto& f : folders) {
            data.class_names.push_back(f.filename().string());
            classes.push_back({static_cast<int>(classes.size()), f});
        }
        if (classes.empty()) detail::fail<format_error>(where, ": '", root.string(), "' has no class folders");
    } else {
        data.class_names = config.class_order == ClassOrder::keras ? keras_class_names() : fer2013_class_names();
        std::map<int, fs::path> seen;
        for (const auto& f : folders) {
            const auto name = canonical_fer2013_class(f.filename().string());
            if (!name) {
                std::string msg = detail::message(where, ": folder '", f.string(), "' is not a FER2013 class (expected angry, disgust(ed), fear(ful), happy, sad, surprise(d), neutral; use ClassOrder::folders for other names)");
                if (!skip) throw format_error(msg);
                report.skipped.push_back({f.string(), msg});
                continue;
            }
            const int label = class_index(data.class_names, *name);
            if (auto it = seen.find(label); it != seen.end())
                detail::fail<format_error>(where, ": folders '", it->second.string(), "' and '", f.string(),
                                           "' are both class '", *name, "'");
            seen.emplace(label, f);
        }
        for (int c = 0; c < static_cast<int>(data.class_names.size()); ++c) {
            auto it = seen.find(c);
            if (it == seen.end())
                detail::fail<format_error>(where, ": '", root.string(), "' has no folder for class '",
                                           data.class_names[static_cast<std::size_t>(c)],
                                           "' (use ClassOrder::folders to load a subset of classes)");
            classes.push_back({c, it->second});
        }
    }

    // 2. image files per class, sorted by file name.
    std::vector<std::string> files;       // full paths (sources, messages)
    std::vector<std::string> file_names;  // names inside their class folder
    std::vector<int> file_labels;
    std::vector<int> file_folder;         // index into `classes`
    for (std::size_t folder = 0; folder < classes.size(); ++folder) {
        const auto& cls = classes[folder];
        std::vector<std::pair<std::string, std::string>> named;  // (file name, path)
        for (const auto& entry : fs::directory_iterator(cls.path)) {
            if (!entry.is_directory() && detail::has_image_extension(entry.path()))
                named.emplace_back(entry.path().filename().string(), entry.path().string());
            else
                report.ignored.push_back(entry.path().string());
        }
        if (named.empty()) {
            std::string msg = detail::message(where, ": class folder '", cls.path.string(), "' has no image files (.png, .jpg, .jpeg, .bmp)");
            if (!skip) throw format_error(msg);
            report.skipped.push_back({cls.path.string(), msg});
            continue;
        }
        std::sort(named.begin(), named.end());
        for (auto& [name, path] : named) {
            files.push_back(std::move(path));
            file_names.push_back(std::move(name));
            file_labels.push_back(cls.label);
            file_folder.push_back(static_cast<int>(folder));
        }
    }

    // 3. read and decode in parallel, each image straight into its row.
    const auto n = static_cast<Index>(files.size());
    const Index pixels_per_image = config.height * config.width;
    PixelMatrix pixels(n, pixels_per_image);
    advise_huge_pages(pixels);  // written whole, once: see core/huge_pages.hpp
    std::vector<std::exception_ptr> errors(files.size());
    std::vector<std::unique_ptr<detail::FolderHandle>> handles;
    for (const auto& cls : classes) handles.push_back(std::make_unique<detail::FolderHandle>(cls.path));
    parallel_for(0, n, config.n_threads, [&](std::int64_t begin, std::int64_t end) {
        std::vector<unsigned char> buffer;
        for (std::int64_t i = begin; i < end; ++i) {
            const auto k = static_cast<std::size_t>(i);
            const std::string& path = files[k];
            try {
                const std::size_t size = detail::read_file_in(handles[static_cast<std::size_t>(file_folder[k])]->fd(),
                                                              file_names[k].c_str(), path, buffer);
                auto image = decode_image(buffer.data(), size, path, ColorMode::gray);
                if (image.height() != config.height || image.width() != config.width) {
                    if (config.resize == Resize::no)
                        detail::fail<format_error>(where, ": '", path, "' is ", image.height(), " x ", image.width(),
                                                   " pixels, expected ", config.height, " x ", config.width,
                                                   " (set resize to Resize::area or Resize::bilinear to resize)");
                    image = feral::resize(image, config.height, config.width,
                                          config.resize == Resize::area ? Interpolation::area : Interpolation::bilinear);
                }
                std::memcpy(pixels.row(i).data(), image.data(), static_cast<std::size_t>(pixels_per_image));
            } catch (const error&) {
                errors[static_cast<std::size_t>(i)] = std::current_exception();
            }
        }
    });

    // 4. errors in file order (so the reported one does not depend on the threads), compaction.
    std::vector<Index> keep;
    keep.reserve(files.size());
    for (Index i = 0; i < n; ++i) {
        const auto& err = errors[static_cast<std::size_t>(i)];
        if (!err) {
            keep.push_back(i);
            continue;
        }
        if (!skip) std::rethrow_exception(err);
        try {
            std::rethrow_exception(err);
        } catch (const error& e) {
            report.skipped.push_back({files[static_cast<std::size_t>(i)], e.what()});
        }
    }
    if (static_cast<Index>(keep.size()) == n) {
        data.pixels = std::move(pixels);
    } else {
        data.pixels.resize(static_cast<Index>(keep.size()), pixels_per_image);
        for (std::size_t k = 0; k < keep.size(); ++k) data.pixels.row(static_cast<Index>(k)) = pixels.row(keep[k]);
    }
    data.labels.resize(static_cast<Index>(keep.size()));
    if (config.keep_sources) data.sources.reserve(keep.size());
    for (std::size_t k = 0; k < keep.size(); ++k) {
        const auto i = static_cast<std::size_t>(keep[k]);
        data.labels[static_cast<Index>(k)] = file_labels[i];
        if (config.keep_sources) data.sources.push_back(std::move(files[i]));
    }
    data.shape = {1, config.height, config.width};
    report.loaded = data.size();
    return result;
}
}  // namespace detail

/// Loads root/<class>/<images> (see the header comment for the rules).
/// throws: io_error / format_error naming the file or folder; invalid_argument for a bad config.
inline LoadedDataset load_image_folder(const std::filesystem::path& root, const FolderLoadConfig& config = {}) {
    try {
        return detail::load_image_folder_impl(root, config);
    } catch (const std::filesystem::filesystem_error& e) {
        // listing a folder failed (permissions, a folder removed while loading)
        detail::fail<io_error>("load_image_folder: cannot list '", e.path1().string(), "': ", e.code().message());
    }
}

}  // namespace feral
