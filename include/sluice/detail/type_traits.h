// Small type traits shared by the API's templates.
#pragma once

#include <tuple>
#include <type_traits>
#include <utility>

namespace sluice::detail {

template <typename T>
struct IsPair : std::false_type {};
template <typename A, typename B>
struct IsPair<std::pair<A, B>> : std::true_type {};

template <typename T>
struct IsTuple : std::false_type {};
template <typename... Ts>
struct IsTuple<std::tuple<Ts...>> : std::true_type {};

}  // namespace sluice::detail
