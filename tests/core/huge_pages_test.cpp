#include <feral/core/huge_pages.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <fstream>
#include <sstream>
#include <string>

namespace {

// The VmFlags line of the mapping holding `address`, from /proc/self/smaps ("" if none).
std::string vm_flags_of(const void* address) {
    std::ifstream smaps("/proc/self/smaps");
    const auto a = reinterpret_cast<std::uintptr_t>(address);
    bool inside = false;
    std::string line;
    while (std::getline(smaps, line)) {
        std::uintptr_t begin = 0, end = 0;
        char dash = 0;
        std::istringstream range(line);
        if (range >> std::hex >> begin >> dash >> end && dash == '-') {
            inside = begin <= a && a < end;
        } else if (inside && line.rfind("VmFlags:", 0) == 0) {
            return line;
        }
    }
    return "";
}

// Whether this kernel would honour MADV_HUGEPAGE (policy "always" or "madvise").
bool transparent_huge_pages_available() {
    std::ifstream policy("/sys/kernel/mm/transparent_hugepage/enabled");
    std::string text;
    std::getline(policy, text);
    return text.find("[always]") != std::string::npos || text.find("[madvise]") != std::string::npos;
}

}  // namespace

TEST_CASE("advise_huge_pages marks a large fresh matrix for 2 MB pages and changes nothing else", "[core][huge_pages]") {
    feral::Matrix<float> small(100, 100);
    CHECK_FALSE(feral::advise_huge_pages(small));  // 40 KB: under the 4 MB threshold
    feral::Matrix<float> empty;
    CHECK_FALSE(feral::advise_huge_pages(empty));

    feral::Matrix<float> large(2048, 2048);  // 16 MB
    large.setConstant(1.5f);
    large(2047, 2047) = -3.0f;
    const bool advised = feral::advise_huge_pages(large);
    // Advice given after the writes keeps every value.
    CHECK(large(0, 0) == 1.5f);
    CHECK(large(1000, 17) == 1.5f);
    CHECK(large(2047, 2047) == -3.0f);
    CHECK(large.rows() == 2048);
    CHECK(large.cols() == 2048);
#if defined(__linux__)
    if (!transparent_huge_pages_available()) {
        WARN("transparent huge pages are off on this kernel: only the no-op path is checked");
        return;
    }
    REQUIRE(advised);
    // The kernel records the advice on the mapping holding the matrix ("hg" in VmFlags).
    const std::string flags = vm_flags_of(large.data() + 1024 * 1024);
    INFO("VmFlags of the matrix: '" << flags << "'");
    CHECK(flags.find(" hg") != std::string::npos);
#else
    CHECK_FALSE(advised);
#endif
}
