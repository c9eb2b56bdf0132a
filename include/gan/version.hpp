#pragma once

#define GAN_VERSION_MAJOR 0
#define GAN_VERSION_MINOR 1
#define GAN_VERSION_PATCH 0

namespace gan {
inline constexpr const char* version_string = "0.1.0";
}
