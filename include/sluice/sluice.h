// Sluice's typed C++ dataflow API. See environment.h for an example.
#pragma once

#include "sluice/environment.h"
#include "sluice/options.h"
#include "sluice/sinks.h"
#include "sluice/status.h"
#include "sluice/stream.h"
#include "sluice/time.h"
#include "sluice/window.h"
