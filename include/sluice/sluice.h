// Sluice's typed C++ dataflow API. See environment.h for an example.
//
// The connectors (file sources, the Nexmark source, the text sinks) are in the library
// sluice_connectors; link it when a pipeline uses them.
#pragma once

#include "sluice/connectors/file_sources.h"
#include "sluice/connectors/nexmark_source.h"
#include "sluice/environment.h"
#include "sluice/fields.h"
#include "sluice/options.h"
#include "sluice/output_tag.h"
#include "sluice/process_function.h"
#include "sluice/sinks.h"
#include "sluice/state.h"
#include "sluice/status.h"
#include "sluice/stream.h"
#include "sluice/time.h"
#include "sluice/watermarks.h"
#include "sluice/window.h"
