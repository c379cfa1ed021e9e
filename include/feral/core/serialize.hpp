// feral/core/serialize.hpp — the versioned binary container every model is saved in.
//
// File layout (all integers little-endian):
//   offset  size  field
//   0       8     magic "FERALMDL"
//   8       4     container version (kContainerVersion)
//   12      4     length L of the type tag
//   16      L     type tag, e.g. "GaussianNB<float>" — what kind of model this is
//   16+L    4     payload version (the model's own format version)
//   20+L    8     payload size P in bytes
//   28+L    P     payload (written with ByteWriter, read with ByteReader)
//   28+L+P  8     FNV-1a 64 checksum of every byte before it
// A truncated file, a flipped byte, or a file holding another model type is
// reported as format_error naming the file and what was wrong.
//
// Saving never overwrites an existing file unless asked (Overwrite::yes), and
// writes through a temporary file renamed into place, so a crash mid-save never
// leaves a half-written model where a good one was.
//
// Example (inside a model's save/load):
//   feral::ByteWriter w;  w.write(n_features_);  w.write_matrix(means_);
//   feral::write_container(path, "GaussianNB<float>", 1, w.bytes(), overwrite);
//   auto c = feral::read_container(path, "GaussianNB<float>");
//   feral::ByteReader r = c.reader();  r.read(n_features_);  means_ = r.read_matrix<float>();
#pragma once

#include "feral/core/error.hpp"
#include "feral/core/types.hpp"

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace feral {

inline constexpr std::array<char, 8> kContainerMagic = {'F', 'E', 'R', 'A', 'L', 'M', 'D', 'L'};
inline constexpr std::uint32_t kContainerVersion = 1;

/// Whether saving may replace an existing file.
enum class Overwrite { no, yes };

namespace detail {
inline std::uint64_t fnv1a64(const unsigned char* data, std::size_t n, std::uint64_t h = 0xcbf29ce484222325ULL) {
    for (std::size_t i = 0; i < n; ++i) {
        h ^= data[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
static_assert(std::endian::native == std::endian::little, "feral's container format assumes a little-endian host");
}  // namespace detail

/// Appends plain values, strings, vectors and Eigen matrices to a byte buffer.
class ByteWriter {
public:
    template <class T>
        requires std::is_trivially_copyable_v<T>
    void write(const T& value) {
        const auto* p = reinterpret_cast<const unsigned char*>(&value);
        bytes_.insert(bytes_.end(), p, p + sizeof(T));
    }

    void write_string(std::string_view s) {
        write<std::uint64_t>(s.size());
        bytes_.insert(bytes_.end(), s.begin(), s.end());
    }

    template <class T>
        requires std::is_trivially_copyable_v<T>
    void write_vector(const std::vector<T>& v) {
        write<std::uint64_t>(v.size());
        const auto* p = reinterpret_cast<const unsigned char*>(v.data());
        bytes_.insert(bytes_.end(), p, p + v.size() * sizeof(T));
    }

    void write_strings(const std::vector<std::string>& v) {
        write<std::uint64_t>(v.size());
        for (const auto& s : v) write_string(s);
    }

    /// Any dense Eigen matrix or vector; stored as rows, cols, then row-major values.
    template <class Derived>
    void write_matrix(const Eigen::DenseBase<Derived>& m) {
        using Scalar = typename Derived::Scalar;
        write<std::int64_t>(m.rows());
        write<std::int64_t>(m.cols());
        const Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_major = m;
        const auto* p = reinterpret_cast<const unsigned char*>(row_major.data());
        bytes_.insert(bytes_.end(), p, p + row_major.size() * sizeof(Scalar));
    }

    /// A count, then each matrix as write_matrix stores it (read_matrices reads it back).
    template <class MatrixType>
    void write_matrices(const std::vector<MatrixType>& matrices) {
        write<std::uint64_t>(matrices.size());
        for (const auto& m : matrices) write_matrix(m);
    }

    [[nodiscard]] const std::vector<unsigned char>& bytes() const { return bytes_; }

private:
    std::vector<unsigned char> bytes_;
};

/// Reads back what ByteWriter wrote, with bounds checks: running past the end
/// throws format_error naming `source` (the file).
class ByteReader {
public:
    ByteReader(const unsigned char* data, std::size_t size, std::string source)
        : data_(data), size_(size), source_(std::move(source)) {}

    template <class T>
        requires std::is_trivially_copyable_v<T>
    T read() {
        T value;
        std::memcpy(&value, take(sizeof(T)), sizeof(T));
        return value;
    }

    template <class T>
        requires std::is_trivially_copyable_v<T>
    void read(T& value) { value = read<T>(); }

    std::string read_string() {
        const auto n = read_size(1);
        const auto* p = take(n);
        return std::string(reinterpret_cast<const char*>(p), n);
    }

    template <class T>
        requires std::is_trivially_copyable_v<T>
    std::vector<T> read_vector() {
        const auto n = read_size(sizeof(T));
        std::vector<T> v(n);
        if (n != 0) std::memcpy(v.data(), take(n * sizeof(T)), n * sizeof(T));
        return v;
    }

    std::vector<std::string> read_strings() {
        const auto n = read_size(8);
        std::vector<std::string> v;
        v.reserve(n);
        for (std::size_t i = 0; i < n; ++i) v.push_back(read_string());
        return v;
    }

    /// Reads a matrix written by write_matrix into the requested Eigen type.
    template <class MatrixType>
    MatrixType read_matrix() {
        using Scalar = typename MatrixType::Scalar;
        const auto rows = read<std::int64_t>();
        const auto cols = read<std::int64_t>();
        if (rows < 0 || cols < 0 || (cols != 0 && static_cast<std::uint64_t>(rows) > remaining() / sizeof(Scalar) / static_cast<std::uint64_t>(cols)))
            detail::fail<format_error>(source_, ": corrupt matrix header (", rows, " x ", cols, ") at byte ", offset_);
        Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> row_major(rows, cols);
        const std::size_t bytes = static_cast<std::size_t>(rows * cols) * sizeof(Scalar);
        if (bytes != 0) std::memcpy(row_major.data(), take(bytes), bytes);
        if constexpr (MatrixType::IsVectorAtCompileTime) {
            if (rows != 1 && cols != 1)
                detail::fail<format_error>(source_, ": expected a vector, found a ", rows, " x ", cols, " matrix");
            return Eigen::Map<const MatrixType>(row_major.data(), row_major.size());
        } else {
            return row_major;
        }
    }

    /// Reads write_matrices' output. A count the bytes left cannot hold (each matrix takes
    /// at least its 16-byte header) is format_error before anything is allocated; callers
    /// check the count and shapes they expect.
    template <class MatrixType>
    std::vector<MatrixType> read_matrices() {
        const auto n = read_size(2 * sizeof(std::int64_t));
        std::vector<MatrixType> matrices;
        matrices.reserve(n);
        for (std::size_t k = 0; k < n; ++k) matrices.push_back(read_matrix<MatrixType>());
        return matrices;
    }

    [[nodiscard]] std::size_t remaining() const { return size_ - offset_; }
    [[nodiscard]] const std::string& source() const { return source_; }

    /// Call at the end of load(): trailing bytes mean the payload does not match its version.
    void expect_end() const {
        if (offset_ != size_)
            detail::fail<format_error>(source_, ": ", size_ - offset_, " unexpected bytes after the model payload");
    }

private:
    std::size_t read_size(std::size_t element_size) {
        const auto n = read<std::uint64_t>();
        if (element_size != 0 && n > remaining() / element_size)
            detail::fail<format_error>(source_, ": corrupt length ", n, " at byte ", offset_ - 8);
        return static_cast<std::size_t>(n);
    }

    const unsigned char* take(std::size_t n) {
        if (n > size_ - offset_)
            detail::fail<format_error>(source_, ": truncated payload (needed ", n, " bytes at byte ", offset_, ", only ",
                                       size_ - offset_, " left)");
        const auto* p = data_ + offset_;
        offset_ += n;
        return p;
    }

    const unsigned char* data_;
    std::size_t size_;
    std::size_t offset_ = 0;
    std::string source_;
};

/// Writes a container file. Throws io_error if `path` exists and overwrite is
/// Overwrite::no, or if the file cannot be written.
inline void write_container(const std::filesystem::path& path, std::string_view type_tag, std::uint32_t payload_version,
                            const std::vector<unsigned char>& payload, Overwrite overwrite = Overwrite::no) {
    namespace fs = std::filesystem;
    if (overwrite == Overwrite::no && fs::exists(path))
        detail::fail<io_error>("refusing to overwrite existing file '", path.string(),
                               "' (pass Overwrite::yes to replace it)");
    ByteWriter header;
    for (char c : kContainerMagic) header.write(c);
    header.write<std::uint32_t>(kContainerVersion);
    header.write<std::uint32_t>(static_cast<std::uint32_t>(type_tag.size()));
    std::vector<unsigned char> file = header.bytes();
    file.insert(file.end(), type_tag.begin(), type_tag.end());
    ByteWriter sizes;
    sizes.write<std::uint32_t>(payload_version);
    sizes.write<std::uint64_t>(payload.size());
    file.insert(file.end(), sizes.bytes().begin(), sizes.bytes().end());
    file.insert(file.end(), payload.begin(), payload.end());
    const std::uint64_t checksum = detail::fnv1a64(file.data(), file.size());
    const auto* c = reinterpret_cast<const unsigned char*>(&checksum);
    file.insert(file.end(), c, c + sizeof(checksum));

    fs::path temporary = path;
    temporary += ".tmp-feral";
    {
        std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
        if (!out) detail::fail<io_error>("cannot open '", temporary.string(), "' for writing");
        out.write(reinterpret_cast<const char*>(file.data()), static_cast<std::streamsize>(file.size()));
        out.close();  // flushes: a write that fails only here must not replace the good file
        if (!out) {
            fs::remove(temporary);
            detail::fail<io_error>("failed writing '", temporary.string(), "'");
        }
    }
    std::error_code ec;
    fs::rename(temporary, path, ec);
    if (ec) {
        fs::remove(temporary);
        detail::fail<io_error>("cannot move the saved model into '", path.string(), "': ", ec.message());
    }
}

/// A container read into memory and verified: magic, version, checksum, type tag.
class Container {
public:
    [[nodiscard]] const std::string& type_tag() const { return type_tag_; }
    [[nodiscard]] std::uint32_t payload_version() const { return payload_version_; }
    [[nodiscard]] ByteReader reader() const { return ByteReader(bytes_.data() + payload_offset_, payload_size_, source_); }

    friend Container read_container(const std::filesystem::path&, std::string_view);

private:
    std::vector<unsigned char> bytes_;
    std::size_t payload_offset_ = 0;
    std::size_t payload_size_ = 0;
    std::uint32_t payload_version_ = 0;
    std::string type_tag_;
    std::string source_;
};

/// Reads and verifies a container. If `expected_type_tag` is not empty and the
/// file holds another type, throws format_error naming both.
inline Container read_container(const std::filesystem::path& path, std::string_view expected_type_tag = {}) {
    std::ifstream in(path, std::ios::binary);
    if (!in) detail::fail<io_error>("cannot open model file '", path.string(), "'");
    Container c;
    c.source_ = path.string();
    c.bytes_.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    const auto& b = c.bytes_;
    const std::size_t fixed = kContainerMagic.size() + 4 + 4;
    if (b.size() < fixed || std::memcmp(b.data(), kContainerMagic.data(), kContainerMagic.size()) != 0)
        detail::fail<format_error>("'", c.source_, "' is not a feral model file (bad magic)");
    ByteReader header(b.data(), b.size(), c.source_);
    for (std::size_t i = 0; i < kContainerMagic.size(); ++i) (void)header.read<char>();
    const auto version = header.read<std::uint32_t>();
    if (version != kContainerVersion)
        detail::fail<format_error>("'", c.source_, "' has container version ", version, ", this feral reads version ",
                                   kContainerVersion);
    const auto tag_size = header.read<std::uint32_t>();
    if (tag_size > b.size())
        detail::fail<format_error>("'", c.source_, "' is truncated or corrupt (type tag length ", tag_size, ")");
    const std::size_t tag_offset = fixed;
    const std::size_t after_tag = tag_offset + tag_size;
    if (after_tag + 12 + 8 > b.size()) detail::fail<format_error>("'", c.source_, "' is truncated (header incomplete)");
    c.type_tag_.assign(reinterpret_cast<const char*>(b.data() + tag_offset), tag_size);
    ByteReader sizes(b.data() + after_tag, 12, c.source_);
    c.payload_version_ = sizes.read<std::uint32_t>();
    const auto payload_size = sizes.read<std::uint64_t>();
    c.payload_offset_ = after_tag + 12;
    if (payload_size > b.size() - c.payload_offset_ - 8 || c.payload_offset_ + payload_size + 8 != b.size())
        detail::fail<format_error>("'", c.source_, "' is truncated or has trailing data (payload of ", payload_size,
                                   " bytes declared, file has ", b.size(), " bytes)");
    c.payload_size_ = static_cast<std::size_t>(payload_size);
    std::uint64_t stored = 0;
    std::memcpy(&stored, b.data() + b.size() - 8, 8);
    if (stored != detail::fnv1a64(b.data(), b.size() - 8))
        detail::fail<format_error>("'", c.source_, "' is corrupt (checksum mismatch)");
    if (!expected_type_tag.empty() && c.type_tag_ != expected_type_tag)
        detail::fail<format_error>("'", c.source_, "' holds a ", c.type_tag_, " model, expected ", expected_type_tag);
    return c;
}

/// Scalar type name for type tags: "float" / "double".
template <class T>
constexpr const char* scalar_name() {
    if constexpr (std::is_same_v<T, float>) return "float";
    else if constexpr (std::is_same_v<T, double>) return "double";
    else return "unknown";
}

}  // namespace feral
