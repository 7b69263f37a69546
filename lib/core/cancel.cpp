#include "core/cancel.hpp"

namespace edgeship::core {

CancelToken& CancelToken::global() {
    static CancelToken token;
    return token;
}

} // namespace edgeship::core
