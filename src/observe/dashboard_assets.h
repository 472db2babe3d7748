// The web dashboard's files (web/ and the libraries it uses from web/node_modules), embedded in
// the binary at build time by cmake/embed_assets.cmake.
#pragma once

#include <span>
#include <string_view>

namespace sluice::observe {

struct Asset {
  std::string_view path;  // as requested: "/", "/dashboard.js", ...
  std::string_view content_type;
  std::string_view body;
};

std::span<const Asset> dashboard_assets();

}  // namespace sluice::observe
