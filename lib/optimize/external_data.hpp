#pragma once

// External data for `optimize` (docs/design/onnx.md §10.6). The reader and writer live in the model
// module (model/external_data.hpp) so that every command that reads a model shares one
// implementation and one location rule; these names keep the optimize API.

#include "model/external_data.hpp"

namespace edgeship::optimize {

using model::ExternalData;
using model::ExternalDataInfo;
using model::external_data_bytes;
using model::load_external_data;
using model::save_with_external_data;

} // namespace edgeship::optimize
