// Helpers shared by feral's tests.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <optional>
#include <string>

// Checks that expr throws Type and that the message contains text (the value, file or
// row the message must name). Expands where Catch is included.
#define CHECK_THROWS_FERAL(expr, Type, text)                       \
    do {                                                           \
        CHECK_THROWS_AS(expr, Type);                               \
        CHECK_THROWS_WITH(expr, Catch::Matchers::Contains(text)); \
    } while (false)

namespace feral::test {

/// Root of the real FER2013 data (folder layout), from FERAL_FER2013. When unset,
/// prints a SKIPPED line (CTest reports the [fer2013] suite as skipped) and
/// returns nullopt; the test case then returns early.
inline std::optional<std::filesystem::path> fer2013_root(const std::string& test_name) {
    const char* env = std::getenv("FERAL_FER2013");
    if (env == nullptr || *env == '\0') {
        std::cout << "SKIPPED: " << test_name << " (FERAL_FER2013 is not set)\n";
        return std::nullopt;
    }
    return std::filesystem::path(env);
}

/// Path of a fixture file under tests/fixtures.
inline std::filesystem::path fixture(const std::string& relative) {
    return std::filesystem::path(FERAL_FIXTURE_DIR) / relative;
}

/// A fresh empty scratch directory under the build tree for one test.
inline std::filesystem::path scratch_dir(const std::string& name) {
    auto dir = std::filesystem::path(FERAL_BINARY_DIR) / "test-scratch" / name;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

/// The whole of a file's bytes as a string (empty when it cannot be read): to check that
/// a file was left exactly as it was.
inline std::string file_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace feral::test
