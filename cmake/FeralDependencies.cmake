# Finds what the feral INTERFACE target links. Used by the build tree and by the
# installed feralConfig.cmake, so both see the same dependencies.
include(CMakeFindDependencyMacro)
find_dependency(Eigen3 3.4 NO_MODULE)
# Debian's xsimd target links the name "xtl"; find xtl first so that name is its target.
find_dependency(xtl)
find_dependency(xsimd)
find_dependency(Threads)
find_package(OpenMP QUIET COMPONENTS CXX)
find_dependency(PkgConfig)
# Debian's libstb-dev compiles the stb implementations into libstb; feral links it
# instead of compiling stb_image into every translation unit.
if(NOT TARGET PkgConfig::stb)
  pkg_check_modules(stb REQUIRED IMPORTED_TARGET GLOBAL stb)
endif()
