// feral/core/huge_pages.hpp — asking Linux for 2 MB pages for a large, fresh matrix.
//
//   Matrix<float> out(n, d);           // allocated, not yet written
//   feral::advise_huge_pages(out);     // then write it
//
// Why: the first write to each page of a new allocation is a page fault. A 263 MB matrix
// (FER2013's training images as floats) is 64,000 faults with 4 KB pages and 130 with
// 2 MB ones, and a fault is dear on a virtual machine: on the 2-core VM feral is measured
// on, writing a fresh 263 MB buffer takes 0.8 s with 4 KB pages and 0.025 s with 2 MB
// pages (0.6 s for a process's first such buffer, while the kernel gathers 2 MB pages).
// Linux gives 2 MB ("transparent huge") pages to a range only when asked with
// madvise(MADV_HUGEPAGE) where its policy is "madvise", Debian's default; numpy asks for
// every array of 4 MB or more, and so does feral for the matrices it writes whole once:
// loaded and converted images, standardised and projected copies, row subsets, HOG
// features, PCA's centred data, the SVM's kernel cache, a network's activations and
// gradient buffers.
//
// The advice is only that: it changes no value, may be ignored by the kernel (policy
// "never", no free 2 MB page), and is skipped for buffers under 4 MB (too few faults to
// matter) and on systems other than Linux. Give it before the first write: pages already
// touched stay 4 KB until the kernel's background thread merges them, if ever.
#pragma once

#include "feral/core/types.hpp"

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace feral {

/// Buffers smaller than this get no advice (numpy's threshold).
inline constexpr std::size_t kHugePageAdviceMinBytes = std::size_t{4} << 20;

/// Advises the kernel to back [data, data + bytes) with transparent huge pages. Only the
/// whole system pages inside the range are advised. Returns whether advice was given
/// (false: too small, not Linux, or the kernel refused it; nothing changes either way).
inline bool advise_huge_pages(void* data, std::size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    if (data == nullptr || bytes < kHugePageAdviceMinBytes) return false;
    const auto page = static_cast<std::uintptr_t>(sysconf(_SC_PAGESIZE));
    const auto begin = (reinterpret_cast<std::uintptr_t>(data) + page - 1) / page * page;
    const auto end = (reinterpret_cast<std::uintptr_t>(data) + bytes) / page * page;
    if (end <= begin) return false;
    return madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) == 0;
#else
    (void)data;
    (void)bytes;
    return false;
#endif
}

/// The same for a dense Eigen matrix or vector (its whole storage).
template <class Derived>
bool advise_huge_pages(Eigen::PlainObjectBase<Derived>& m) {
    const auto bytes = static_cast<std::size_t>(m.size()) * sizeof(typename Derived::Scalar);
    return advise_huge_pages(static_cast<void*>(m.data()), bytes);
}

}  // namespace feral
